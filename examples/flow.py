"""Drive a whole verification through the official MCP client, on the built-in sandbox.

    python examples/flow.py

Spawns `sms-activation-mcp` over stdio with no API key (so nothing costs money), orders
a number, waits for the SMS, requests a second one, then orders and cancels another.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters


class StepFailed(Exception):
    """A tool call returned an error; its text is already printed."""


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    text = " ".join(getattr(block, "text", "") for block in result.content)
    print(f"{tool}: {text}")
    if result.is_error or result.structured_content is None:
        raise StepFailed(tool)
    return result.structured_content


async def verify(client: Client) -> None:
    await call(client, "check_price", country="United Kingdom", service="Telegram")
    order = await call(client, "order_number", country="United Kingdom", service="Telegram")
    await call(client, "check_sms", activation_id=order["activation_id"], wait_seconds=30)
    await call(client, "retry_activation", activation_id=order["activation_id"])
    await call(client, "check_sms", activation_id=order["activation_id"], wait_seconds=30)

    spare = await call(client, "order_number", country="Germany", service="WhatsApp")
    await asyncio.sleep(1.5)
    await call(client, "cancel_activation", activation_id=spare["activation_id"])
    await call(client, "get_balance")


async def main() -> int:
    beside_python = Path(sys.executable).with_name("sms-activation-mcp")
    command = str(beside_python) if beside_python.exists() else shutil.which("sms-activation-mcp")
    if command is None:
        sys.exit("sms-activation-mcp is not installed: run pip install -e . first")
    environment = {key: value for key, value in os.environ.items() if key != "PLATFONE_API_KEY"}
    # Short sandbox delays; a cancel window that opens before the SMS, so the spare can be cancelled.
    environment.setdefault("SMS_MCP_SANDBOX_SMS_DELAY_SECONDS", "3")
    environment.setdefault("SMS_MCP_SANDBOX_CANCEL_AFTER_SECONDS", "1")

    async with Client(StdioServerParameters(command=command, env=environment)) as client:
        try:
            await verify(client)
        except StepFailed as failed:
            print(f"stopped: {failed} returned an error", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
