"""The `sms-activation-mcp` command: the MCP server on stdio, or the sandbox on a port."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from sms_activation_mcp import __version__, logs
from sms_activation_mcp.config import Settings, environment_variable

logger = logging.getLogger(__name__)

DESCRIPTION = """\
MCP server that rents virtual phone numbers and reads their verification SMS.
With no command it serves MCP on stdin/stdout. Without PLATFONE_API_KEY it runs on
the built-in sandbox, where nothing costs money."""

EPILOG = """\
environment:
  PLATFONE_API_KEY                 Platfone API key; unset: use the built-in sandbox
  PLATFONE_API_URL                 API base URL (default https://temp-number-api.com/api/v1)
  SMS_MCP_LOG_LEVEL                DEBUG, INFO, WARNING or ERROR (default INFO), on stderr
  SMS_MCP_MAX_WAIT_SECONDS         longest wait of one check_sms call (default 45)
  SMS_MCP_DATA_DIR                 folder of the activation ledger
  SMS_MCP_MAX_PRICE_CENTS          owner's cap on one number's price
  SMS_MCP_DAILY_BUDGET_CENTS       owner's budget for the last 24 hours
  SMS_MCP_MAX_ACTIVE               activations waiting for an SMS at once (default 3)
  SMS_MCP_ALLOWED_COUNTRIES        comma-separated names or ids; others are refused
  SMS_MCP_ALLOWED_SERVICES         comma-separated names or ids; others are refused
  SMS_MCP_SANDBOX_SMS_DELAY_SECONDS  seconds until a sandbox SMS arrives (default 8)
  see README.md for every setting"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sms-activation-mcp",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("serve", help="serve MCP on stdin/stdout (the default)")

    sandbox = commands.add_parser("sandbox", help="serve the Platfone-compatible sandbox API over HTTP")
    sandbox.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    sandbox.add_argument("--port", type=int, default=8765, help="port to bind (default 8765)")
    sandbox.add_argument(
        "--api-key",
        default=None,
        help="require this X-Api-Key (default: accept any non-empty key)",
    )
    return parser


def _invalid(problem: object) -> int:
    print(f"sms-activation-mcp: invalid setting: {problem}", file=sys.stderr)
    return 2


def _serve(settings: Settings) -> int:
    from sms_activation_mcp.server import build_server

    try:
        app = build_server(settings)
    except ValueError as error:  # a malformed PLATFONE_API_URL or limit; the message never contains the key
        return _invalid(error)
    if settings.uses_sandbox and os.environ.get("PLATFONE_API_URL"):
        logger.warning("PLATFONE_API_URL is set but PLATFONE_API_KEY is not, so the built-in sandbox is used")
    mode = "sandbox" if settings.uses_sandbox else settings.api_url
    logger.info("serving MCP on stdio against %s", mode)
    with contextlib.suppress(KeyboardInterrupt):
        app.run("stdio")
    return 0


def _sandbox(settings: Settings, host: str, port: int, api_key: str | None) -> int:
    from sms_activation_mcp.runtime import sandbox_config
    from sms_activation_mcp.sandbox import serve

    config = sandbox_config(settings, required_api_key=api_key)
    logger.info("sandbox API on http://%s:%d/api/v1", host, port)
    serve(config, host=host, port=port)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    try:
        settings = Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{environment_variable(str(item['loc'][0]))}: {item['msg']}" for item in error.errors() if item["loc"]
        )
        return _invalid(problems)

    secret = settings.api_key.get_secret_value() if settings.api_key else ""
    logs.configure(settings.log_level, secrets=(secret,))

    if args.command == "sandbox":
        return _sandbox(settings, args.host, args.port, args.api_key)
    return _serve(settings)
