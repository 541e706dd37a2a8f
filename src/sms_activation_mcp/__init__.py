"""MCP server that rents virtual phone numbers and reads the verification SMS sent to them."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sms-activation-mcp")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
