"""check_sms waiting, seen from a client: progress, cancellation, load and upstream request counts.

Most tests spawn the real console script over stdio with the official MCP client. The
ones that count upstream requests point it at a sandbox served on a 127.0.0.1 port, whose
GET /sandbox/stats counts the requests per API route. The test of 100 concurrent waits
runs the server in-process, where 100 calls are cheap to start.
"""

from __future__ import annotations

import math
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client, StdioServerParameters

from sms_activation_mcp.config import Settings
from sms_activation_mcp.limits import SpendLimits
from tests.conftest import Harness, make_settings
from tests.test_e2e_stdio import SCRIPT, base_environment, free_port, ok

pytestmark = pytest.mark.anyio

API_KEY = "wait-test-key"
POLL_INTERVAL_SECONDS = 0.2
# Long enough that no SMS arrives by itself during a test, so only a test delivers one.
NO_SMS_DELAY = "600"
# The sandbox keeps at most 20 activations active, so 100 waits share 20 numbers.
CONCURRENT_ACTIVATIONS = 20
WAITS_PER_ACTIVATION = 5


@dataclass
class PortSandbox:
    """A sandbox served by `sms-activation-mcp sandbox` on a loopback port, with a control client."""

    api_url: str
    control: httpx.AsyncClient

    async def stats(self) -> dict[str, int]:
        response = await self.control.get("/sandbox/stats")
        response.raise_for_status()
        counts: dict[str, int] = response.json()
        return counts

    async def deliver_sms(self, activation_id: str) -> None:
        response = await self.control.post(f"/sandbox/activations/{activation_id}/sms", json={})
        response.raise_for_status()


@pytest.fixture
def port_sandbox_process() -> Iterator[str]:
    """Start a sandbox whose SMS never arrives unless a test delivers it, and yield its root URL."""
    port = free_port()
    environment = base_environment()
    environment["SMS_MCP_SANDBOX_SMS_DELAY_SECONDS"] = NO_SMS_DELAY
    process = subprocess.Popen(
        [str(SCRIPT), "sandbox", "--port", str(port), "--api-key", API_KEY],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
async def port_sandbox(port_sandbox_process: str) -> AsyncIterator[PortSandbox]:
    async with httpx.AsyncClient(base_url=port_sandbox_process, headers={"X-Api-Key": API_KEY}) as control:
        for _ in range(100):
            try:
                await control.get("/sandbox/stats")
                break
            except httpx.TransportError:
                await anyio.sleep(0.1)
        else:
            pytest.fail("the sandbox did not start listening")
        yield PortSandbox(api_url=f"{port_sandbox_process}/api/v1", control=control)


@asynccontextmanager
async def stdio_server(data_dir: Path, upstream: PortSandbox | None = None, **settings: str) -> AsyncIterator[Client]:
    """Spawn the console script, on `upstream` when given, else on its in-process sandbox."""
    environment = base_environment()
    environment["SMS_MCP_DATA_DIR"] = str(data_dir)
    environment["SMS_MCP_POLL_INTERVAL_SECONDS"] = str(POLL_INTERVAL_SECONDS)
    environment.update(settings)
    if upstream is not None:
        environment["PLATFONE_API_URL"] = upstream.api_url
        environment["PLATFONE_API_KEY"] = API_KEY

    parameters = StdioServerParameters(command=str(SCRIPT), args=[], env=environment)
    async with Client(parameters, read_timeout_seconds=60) as client:
        yield client


async def order_numbers(client: Client, count: int) -> list[str]:
    """Order Telegram numbers in `count` different countries, since one pair may not be ordered twice."""
    countries = await ok(client, "list_countries", limit=100)
    ids: list[str] = []
    for country in countries["countries"]:
        if len(ids) == count:
            break
        result = await client.call_tool("order_number", {"country": country["country_id"], "service": "tg"})
        if not result.is_error and result.structured_content is not None:
            ids.append(result.structured_content["activation_id"])

    assert len(ids) == count, "too few countries had Telegram numbers in stock"
    return ids


class ProgressLog:
    """Progress notifications of one call, with an event set once `threshold` of them have arrived."""

    def __init__(self, threshold: int = 1) -> None:
        self.updates: list[tuple[float, float | None, str | None]] = []
        self.enough = anyio.Event()
        self._threshold = threshold

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None:
        self.updates.append((progress, total, message))
        if len(self.updates) >= self._threshold:
            self.enough.set()


async def test_wait_reports_progress_then_code(tmp_path: Path) -> None:
    async with stdio_server(tmp_path, SMS_MCP_SANDBOX_SMS_DELAY_SECONDS="2") as client:
        order = await ok(client, "order_number", country="United Kingdom", service="Telegram")
        progress = ProgressLog()

        result = await client.call_tool(
            "check_sms", {"activation_id": order["activation_id"], "wait_seconds": 30}, progress_callback=progress
        )

    assert not result.is_error, result.content
    assert result.structured_content is not None
    assert result.structured_content["sms_received"] is True
    assert result.structured_content["sms_code"]
    assert len(progress.updates) >= 2
    assert all(total == 30 for _, total, _ in progress.updates)
    assert all(message and order["phone"] in message for _, _, message in progress.updates)
    values = [value for value, _, _ in progress.updates]
    assert values == sorted(values)
    assert values[-1] < 30


async def test_cancelled_wait_stops_polling(tmp_path: Path, port_sandbox: PortSandbox) -> None:
    async with stdio_server(tmp_path, port_sandbox) as client:
        order = await ok(client, "order_number", country="de", service="wa")
        progress = ProgressLog(threshold=3)
        outcome: list[object] = []

        async def wait_long() -> None:
            arguments = {"activation_id": order["activation_id"], "wait_seconds": 40}
            outcome.append(await client.call_tool("check_sms", arguments, progress_callback=progress))

        # Cancelling the pending call makes the client (mcp 2.3) send notifications/cancelled for it.
        async with anyio.create_task_group() as group:
            group.start_soon(wait_long)
            await progress.enough.wait()
            group.cancel_scope.cancel()

        # The server reads notifications/cancelled before this request, so the wait has ended by its result.
        balance = await ok(client, "get_balance")
        polled = (await port_sandbox.stats())["get_activation"]
        await anyio.sleep(5 * POLL_INTERVAL_SECONDS)
        polled_later = (await port_sandbox.stats())["get_activation"]
        after = await ok(client, "check_sms", activation_id=order["activation_id"])

    assert outcome == []
    assert len(progress.updates) >= 3
    assert polled >= 4
    assert polled_later == polled
    assert balance["reserved"]["cents"] == order["price"]["cents"]
    assert after["status"] == "active"
    assert after["sms_received"] is False


@pytest.fixture
def settings() -> Settings:
    """Settings of the in-process `harness`: SMS only when delivered, and money for 20 orders."""
    return make_settings(sandbox_sms_delay_seconds=600.0, sandbox_balance_cents=100_000, poll_interval_seconds=0.5)


@pytest.fixture
def limits() -> SpendLimits:
    return SpendLimits(max_active=CONCURRENT_ACTIVATIONS)


async def test_hundred_waits_leave_server_responsive(harness: Harness) -> None:
    ids = await order_numbers(harness.client, CONCURRENT_ACTIVATIONS)
    delivered = set(ids[::2])
    calls = [(activation_id, ProgressLog()) for activation_id in ids for _ in range(WAITS_PER_ACTIVATION)]
    results: dict[int, dict[str, Any]] = {}

    async def wait(index: int, activation_id: str, progress: ProgressLog) -> None:
        arguments = {"activation_id": activation_id, "wait_seconds": 6}
        result = await harness.client.call_tool("check_sms", arguments, progress_callback=progress)
        assert not result.is_error, result.content
        assert result.structured_content is not None
        results[index] = result.structured_content

    async with anyio.create_task_group() as group:
        for index, (activation_id, progress) in enumerate(calls):
            group.start_soon(wait, index, activation_id, progress)
        # One progress notification from each call means all 100 are inside their wait.
        for _, progress in calls:
            await progress.enough.wait()

        plain = await harness.ok("check_sms", activation_id=ids[-1])
        finished_before_plain = len(results)
        for activation_id in delivered:
            await harness.deliver_sms(activation_id)

    assert len(calls) == 100
    assert plain["activation_id"] == ids[-1]
    assert plain["sms_received"] is False
    assert finished_before_plain == 0
    assert len(results) == len(calls)
    for index, (activation_id, _) in enumerate(calls):
        assert results[index]["activation_id"] == activation_id
        assert results[index]["sms_received"] is (activation_id in delivered)
        assert results[index]["status"] == "active"


async def test_catalog_fetched_once_per_ttl(tmp_path: Path, port_sandbox: PortSandbox) -> None:
    async with stdio_server(tmp_path, port_sandbox, SMS_MCP_CATALOG_TTL_SECONDS="300") as client:
        for query in ("united", "de", "+44", "Korea", None):
            await ok(client, "list_countries", **({"query": query} if query else {}))
        for query in ("tele", "wa", "other", None):
            await ok(client, "list_services", **({"query": query} if query else {}))
        for country, service in [("us", "tg"), ("United Kingdom", "WhatsApp"), ("fr", "other")] * 3:
            await ok(client, "check_price", country=country, service=service)

    counts = await port_sandbox.stats()
    assert counts["countries"] == 1
    assert counts["services"] == 1
    assert counts["price"] == 9


async def test_wait_polls_no_faster_than_interval(tmp_path: Path, port_sandbox: PortSandbox) -> None:
    interval = 0.5
    wait_seconds = 3
    async with stdio_server(tmp_path, port_sandbox, SMS_MCP_POLL_INTERVAL_SECONDS=str(interval)) as client:
        order = await ok(client, "order_number", country="de", service="wa")
        before = (await port_sandbox.stats())["get_activation"]

        result = await ok(client, "check_sms", activation_id=order["activation_id"], wait_seconds=wait_seconds)
        polled = (await port_sandbox.stats())["get_activation"] - before

    # One read at the start, then at most one per interval. One more allows for rounding at the deadline.
    assert polled <= 1 + math.ceil(wait_seconds / interval) + 1
    assert polled >= 2
    assert result["sms_received"] is False
