"""End to end: the real console script over stdio, driven by the official MCP client.

Each flow runs twice: on the in-process sandbox (no API key), and with the sandbox
served on a 127.0.0.1 port and PLATFONE_API_URL pointing at it, so the real HTTP
client is exercised.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client, StdioServerParameters

pytestmark = pytest.mark.anyio

SCRIPT = Path(sys.executable).with_name("sms-activation-mcp")
FAST_SANDBOX = {
    # The SMS comes after the cancel window opens, so both flows can run on one sandbox.
    "SMS_MCP_SANDBOX_SMS_DELAY_SECONDS": "2",
    "SMS_MCP_SANDBOX_CANCEL_AFTER_SECONDS": "0.5",
    "SMS_MCP_POLL_INTERVAL_SECONDS": "0.2",
    "SMS_MCP_LOG_LEVEL": "INFO",
}
PORT_API_KEY = "e2e-port-key"


def base_environment() -> dict[str, str]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("PLATFONE_", "SMS_MCP_"))}
    environment.update(FAST_SANDBOX)
    return environment


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    """The sandbox served by `sms-activation-mcp sandbox` on a free loopback port."""
    port = free_port()
    process = subprocess.Popen(
        [str(SCRIPT), "sandbox", "--port", str(port), "--api-key", PORT_API_KEY],
        env=base_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}/api/v1"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{url}/user/balance", headers={"X-Api-Key": PORT_API_KEY}, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("the sandbox did not start listening")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture(params=["in-process", "on-port"])
async def client(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Client]:
    environment = base_environment()
    environment["SMS_MCP_DATA_DIR"] = str(tmp_path)
    if request.param == "on-port":
        environment["PLATFONE_API_URL"] = request.getfixturevalue("sandbox_url")
        environment["PLATFONE_API_KEY"] = PORT_API_KEY

    parameters = StdioServerParameters(command=str(SCRIPT), args=[], env=environment)
    async with Client(parameters, read_timeout_seconds=60) as connected:
        yield connected


async def ok(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert result.structured_content is not None
    return result.structured_content


async def test_tools_listed(client: Client) -> None:
    names = {tool.name for tool in (await client.list_tools()).tools}

    assert {"order_number", "check_sms", "retry_activation", "cancel_activation"} <= names
    assert {"list_countries", "list_services", "get_balance", "check_price"} <= names


async def test_order_wait_code_retry_second_code(client: Client) -> None:
    order = await ok(client, "order_number", country="United Kingdom", service="Telegram")
    assert order["sandbox"] is True
    assert order["phone"].startswith("+44")

    waiting = await ok(client, "check_sms", activation_id=order["activation_id"])
    assert waiting["sms_received"] is False
    assert waiting["next_poll_seconds"] == 10

    first = await ok(client, "check_sms", activation_id=order["activation_id"], wait_seconds=20)
    assert first["sms_received"] is True
    assert first["sms_code"]

    await ok(client, "retry_activation", activation_id=order["activation_id"])
    second = await ok(client, "check_sms", activation_id=order["activation_id"], wait_seconds=20)
    assert second["sms_status"] == "retry_received"
    assert second["sms_code"]
    assert second["sms_code"] != first["sms_code"]


async def test_order_cancel_refund(client: Client) -> None:
    before = await ok(client, "get_balance")
    order = await ok(client, "order_number", country="de", service="wa")
    during = await ok(client, "get_balance")
    assert during["available"]["cents"] == before["available"]["cents"] - order["price"]["cents"]

    await anyio.sleep(0.7)
    canceled = await ok(client, "cancel_activation", activation_id=order["activation_id"])
    assert canceled["status"] == "canceled"
    assert canceled["refunded"]["cents"] == order["price"]["cents"]

    after = await ok(client, "get_balance")
    assert after["available"]["cents"] == before["available"]["cents"]
