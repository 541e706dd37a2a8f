"""Upstream faults seen through the tools: every fault kind on every route it can hit.

Each case runs twice: on the sandbox in-process (httpx.ASGITransport, the server's default)
and on the sandbox served by uvicorn on a 127.0.0.1 port, where timeouts and dropped
connections behave as they do against Platfone. A case passes when the tool returns the
correct result (reads are retried) or a tool error that states what happened and what to do next,
the next call is served, and no order, retry or cancel is sent twice.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import uvicorn
from mcp import Client
from mcp.types import CallToolResult
from starlette.applications import Starlette

from sms_activation_mcp.config import Settings
from sms_activation_mcp.providers.platfone import PlatfoneProvider
from sms_activation_mcp.providers.retry import RetryPolicy
from sms_activation_mcp.runtime import Runtime
from sms_activation_mcp.sandbox import SandboxConfig, create_app
from sms_activation_mcp.server import build_server
from tests.conftest import Harness, make_settings

pytestmark = pytest.mark.anyio

API_KEY = "fault-test-key"
# Long enough that a loaded test machine does not time out requests that have no fault.
TIMEOUT_SECONDS = 1.0
# A delayed response arrives well after the client gave up on it.
SLOW_SECONDS = 2.5
# The SMS arrives only when a test delivers it, and a cancel is allowed at once.
SANDBOX = SandboxConfig(sms_delay_seconds=600, cancel_after_seconds=0, required_api_key=API_KEY)

FAULTS: dict[str, dict[str, Any]] = {
    "http_500": {"status": 500},
    "http_502": {"status": 502},
    "http_503": {"status": 503},
    "rate_limited": {"status": 429, "retry_after": 1},
    "timeout": {"delay_seconds": SLOW_SECONDS},
    "not_json": {"body": "not_json"},
    "truncated": {"body": "truncated"},
    "dropped": {"drop_connection": True},
}
# Kinds after which the provider sends a read again. A garbled 200 response is not resent.
RETRIED_KINDS = {"http_500", "http_502", "http_503", "rate_limited", "timeout", "dropped"}
READ_ROUTES = ["balance", "countries", "services", "price", "get_activation"]
# Every GET goes through one retry path, so a lasting fault is shown on two routes: the catalog
# routes have test_catalog_fault_served_from_cache for theirs.
LASTING_FAULT_ROUTES = ["balance", "get_activation"]
# In-process, a dropped connection arrives as an empty 500 and timeouts do not apply. Other faults
# look the same on both transports, so two of them stand for the rest there.
IN_PROCESS_KINDS = {"dropped", "http_503", "not_json"}
# The parts of a result that change from one call to the next without any fault: can_cancel turns
# true when the clock passes cancelable_at, which is the order's second here.
VOLATILE_KEYS = {"expires_in_seconds", "cancelable_in_seconds", "next_poll_seconds", "next_step", "can_cancel"}

def _applies(transport: str, kind: str) -> bool:
    return transport == "socket" or kind in IN_PROCESS_KINDS


# (transport, fault kind) pairs that mean something: timeouts do not exist in-process.
TRANSPORT_KINDS = [
    pytest.param(transport, kind, id=f"{transport}-{kind}")
    for transport in ("asgi", "socket")
    for kind in FAULTS
    if _applies(transport, kind)
]
# The same with the fault hitting before or after the change; a 429 means nothing was carried out.
TRANSPORT_KINDS_EFFECTS = [
    pytest.param(transport, kind, after_effect, id=f"{transport}-{kind}-{'after' if after_effect else 'before'}")
    for transport in ("asgi", "socket")
    for kind in FAULTS
    for after_effect in (False, True)
    if _applies(transport, kind) and not (kind == "rate_limited" and after_effect)
]
ADVICE = re.compile(r"\b(try again|call|wait|check_sms|get_balance)\b", re.IGNORECASE)


class PortSandbox:
    """A sandbox app served by uvicorn on a free 127.0.0.1 port, from a thread of this process."""

    def __init__(self, config: SandboxConfig) -> None:
        self.app: Starlette = create_app(config)
        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._socket.getsockname()[1]}"
        self._server = uvicorn.Server(uvicorn.Config(self.app, log_config=None, access_log=False, lifespan="off"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)

    def __enter__(self) -> PortSandbox:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the sandbox did not start listening")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()


@dataclass
class FaultHarness(Harness):
    """The conftest harness plus the transport's name and the waits the retry policy requested."""

    transport: str = "asgi"
    waits: list[float] = field(default_factory=list)

    async def stats(self) -> dict[str, int]:
        response = await self.control.get("/sandbox/stats")
        response.raise_for_status()
        counts: dict[str, int] = response.json()
        return counts

    async def reserved(self) -> int:
        return int((await self.ok("get_balance"))["reserved"]["cents"])

    async def clear_faults(self) -> None:
        response = await self.control.delete("/sandbox/faults")
        response.raise_for_status()


@pytest.fixture(scope="module")
def port_sandbox() -> Iterator[PortSandbox]:
    with PortSandbox(SANDBOX) as sandbox:
        yield sandbox


@pytest.fixture
def settings() -> Settings:
    # No API key in the settings, so the server skips its start-up reconcile, whose balance read
    # could otherwise take a fault armed for the test's own call.
    return make_settings(http_timeout_seconds=TIMEOUT_SECONDS)


@pytest.fixture(params=["asgi", "socket"])
async def harness(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path) -> AsyncIterator[FaultHarness]:
    waits: list[float] = []

    async def record_wait(seconds: float) -> None:
        # The wait is recorded instead of slept, so that a Retry-After costs no test time.
        waits.append(seconds)
        await anyio.sleep(0)

    if request.param == "asgi":
        app: Starlette = create_app(SANDBOX)
        upstream_transport: httpx.AsyncBaseTransport | None = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        base_url = "http://sandbox.local"
        control = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url)
    else:
        sandbox: PortSandbox = request.getfixturevalue("port_sandbox")
        app = sandbox.app
        upstream_transport = None
        base_url = sandbox.url
        control = httpx.AsyncClient(base_url=base_url)
    control.headers["X-Api-Key"] = API_KEY

    provider = PlatfoneProvider(
        API_KEY,
        f"{base_url}/api/v1",
        timeout=TIMEOUT_SECONDS,
        transport=upstream_transport,
        retry_policy=RetryPolicy(sleep=record_wait),
    )
    runtime = Runtime(settings, provider, data_dir=tmp_path)
    async with control:
        (await control.post("/sandbox/reset")).raise_for_status()
        async with Client(build_server(settings, runtime)) as client:
            harness = FaultHarness(
                client=client, control=control, runtime=runtime, sandbox=app, transport=request.param, waits=waits
            )
            yield harness


def text_of(result: CallToolResult) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


def assert_clear_error(result: CallToolResult) -> str:
    """Check that a result is a tool error written for an agent, and return its text."""
    text = text_of(result)
    assert result.is_error, result.structured_content
    assert text.strip()
    assert "Traceback" not in text
    assert 'File "' not in text
    assert API_KEY not in text
    assert ADVICE.search(text), text
    return text


def stable(result: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in result.items() if key not in VOLATILE_KEYS}


async def read_call(harness: FaultHarness, route: str) -> tuple[str, dict[str, Any]]:
    """Prepare what a read route needs and name the tool call that reads through it."""
    if route == "balance":
        return "get_balance", {}
    if route == "countries":
        return "list_countries", {"query": "Germany"}
    if route == "services":
        return "list_services", {"query": "Telegram"}
    if route == "price":
        await harness.ok("list_countries", limit=1)
        await harness.ok("list_services", limit=1)
        return "check_price", {"country": "de", "service": "tg"}

    order = await harness.ok("order_number", country="de", service="tg")
    return "check_sms", {"activation_id": order["activation_id"]}


@pytest.mark.parametrize("route", READ_ROUTES)
@pytest.mark.parametrize(("harness", "kind"), TRANSPORT_KINDS, indirect=["harness"])
async def test_read_fault_once(harness: FaultHarness, kind: str, route: str) -> None:
    tool, arguments = await read_call(harness, route)
    before = (await harness.stats())[route]
    await harness.fault(route=route, times=1, **FAULTS[kind])

    faulted = await harness.call(tool, **arguments)
    attempts = (await harness.stats())[route] - before
    reference = await harness.ok(tool, **arguments)

    if kind in RETRIED_KINDS:
        assert not faulted.is_error, text_of(faulted)
        assert faulted.structured_content is not None
        assert stable(faulted.structured_content) == stable(reference)
        assert attempts == 2
    else:
        assert_clear_error(faulted)
        assert attempts == 1
    if kind == "rate_limited":
        assert harness.waits == [1.0]


@pytest.mark.parametrize("route", LASTING_FAULT_ROUTES)
@pytest.mark.parametrize(("harness", "kind"), TRANSPORT_KINDS, indirect=["harness"])
async def test_read_fault_persistent(harness: FaultHarness, kind: str, route: str) -> None:
    tool, arguments = await read_call(harness, route)
    before = (await harness.stats())[route]
    await harness.fault(route=route, **FAULTS[kind])

    text = assert_clear_error(await harness.call(tool, **arguments))

    attempts = (await harness.stats())[route] - before
    assert attempts == (3 if kind in RETRIED_KINDS else 1)
    assert "may or may not" not in text
    await harness.clear_faults()
    await harness.ok(tool, **arguments)


@pytest.mark.parametrize(("harness", "kind"), TRANSPORT_KINDS, indirect=["harness"])
@pytest.mark.parametrize("settings", [make_settings(http_timeout_seconds=TIMEOUT_SECONDS, catalog_ttl_seconds=0)])
async def test_catalog_fault_served_from_cache(harness: FaultHarness, kind: str) -> None:
    reference = await harness.ok("list_countries", query="Germany")
    await harness.fault(route="countries", **FAULTS[kind])

    during = await harness.ok("list_countries", query="Germany")
    order = await harness.ok("order_number", country="Germany", service="Telegram")

    assert during == reference
    assert order["country_id"] == "de"


@pytest.mark.parametrize(("harness", "kind", "after_effect"), TRANSPORT_KINDS_EFFECTS, indirect=["harness"])
async def test_order_fault_never_resent(harness: FaultHarness, kind: str, after_effect: bool) -> None:
    await harness.fault(route="order", times=1, after_effect=after_effect, **FAULTS[kind])

    text = assert_clear_error(await harness.call("order_number", country="de", service="tg"))

    assert (await harness.stats())["order"] == 1
    if kind == "rate_limited":
        assert "limiting requests" in text
        assert "Wait 1 seconds" in text
    else:
        assert "may or may not have been placed" in text
        assert "get_balance" in text

    placed = after_effect
    if kind == "timeout":
        # A stalled server still carries the order out once the delay ends, after the client gave up.
        await anyio.sleep(SLOW_SECONDS + 0.5)
        placed = True
    reserved = await harness.reserved()
    assert (reserved > 0) is placed

    follow_up = await harness.ok("order_number", country="gb", service="wa")
    assert (await harness.stats())["order"] == 2
    assert await harness.reserved() == reserved + follow_up["price"]["cents"]


async def ordered_with_sms(harness: FaultHarness, action: str) -> dict[str, Any]:
    """Order a number, and deliver its SMS when the action is a retry, which needs one."""
    order = await harness.ok("order_number", country="de", service="tg")
    if action == "retry":
        await harness.deliver_sms(order["activation_id"])
        assert (await harness.ok("check_sms", activation_id=order["activation_id"]))["sms_received"]
    return order


@pytest.mark.parametrize(("harness", "kind", "after_effect"), TRANSPORT_KINDS_EFFECTS, indirect=["harness"])
@pytest.mark.parametrize("action", ["retry", "cancel"])
async def test_change_fault_reports_truth(harness: FaultHarness, action: str, kind: str, after_effect: bool) -> None:
    order = await ordered_with_sms(harness, action)
    activation_id = order["activation_id"]
    await harness.fault(route=action, times=1, after_effect=after_effect, **FAULTS[kind])

    result = await harness.call(f"{action}_activation", activation_id=activation_id)

    assert (await harness.stats())[action] == 1
    if after_effect:
        assert not result.is_error, text_of(result)
        assert result.structured_content is not None
        if action == "cancel":
            assert result.structured_content["status"] == "canceled"
            assert result.structured_content["refunded"]["cents"] == order["price"]["cents"]
            assert await harness.reserved() == 0
        else:
            assert result.structured_content["sms_status"] == "retry_requested"
        return

    assert_clear_error(result)
    if kind == "timeout":
        # The sandbox carries out a delayed change after the client gave up, so its state is not checked here.
        return
    state = await harness.ok("check_sms", activation_id=activation_id)
    if action == "cancel":
        assert state["status"] == "active"
        assert await harness.reserved() == order["price"]["cents"]
    else:
        assert state["sms_status"] == "sms_received"


@pytest.mark.parametrize("kind", ["http_503", "dropped"])
async def test_cancel_retried_by_agent_after_fault(harness: FaultHarness, kind: str) -> None:
    order = await harness.ok("order_number", country="de", service="tg")
    await harness.fault(route="cancel", times=1, **FAULTS[kind])
    assert_clear_error(await harness.call("cancel_activation", activation_id=order["activation_id"]))

    canceled = await harness.ok("cancel_activation", activation_id=order["activation_id"])

    assert canceled["refunded"]["cents"] == order["price"]["cents"]
    assert (await harness.stats())["cancel"] == 2
    assert await harness.reserved() == 0
