"""A Platfone-compatible sandbox: the Activation API with its own catalog, balance and SMS lifecycle.

It is the server's default upstream when no API key is set, and the test double of the
Platfone client. `create_app` builds an ASGI app to use in-process (with
httpx.ASGITransport) and `serve` runs one on a port.
"""

from sms_activation_mcp.sandbox.app import create_app, serve
from sms_activation_mcp.sandbox.config import SandboxConfig
from sms_activation_mcp.sandbox.faults import FaultRule

__all__ = ["FaultRule", "SandboxConfig", "create_app", "serve"]
