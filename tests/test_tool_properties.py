"""Arbitrary arguments to every tool: each call returns a result or a tool error, never a failed call.

Hypothesis generates the arguments: wrong types, huge and unicode strings, negative and
huge numbers, missing and extra keys, None. One server, started in an anyio blocking
portal, serves every example, because a server per example would take minutes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from mcp import Client
from mcp.types import CallToolResult

from sms_activation_mcp.providers.platfone import PlatfoneProvider
from sms_activation_mcp.runtime import SANDBOX_API_KEY, SANDBOX_BASE_URL, Runtime
from sms_activation_mcp.sandbox import SandboxConfig, create_app
from sms_activation_mcp.server import build_server
from tests.conftest import make_settings

TOOLS = [
    "list_countries",
    "list_services",
    "check_price",
    "get_balance",
    "list_activations",
    "order_number",
    "check_sms",
    "retry_activation",
    "cancel_activation",
]
EXAMPLES_PER_TOOL = 50
# Names the tools take, so that generated dicts hit real parameters as well as unknown ones.
PARAMETER_NAMES = [
    "query",
    "limit",
    "country",
    "service",
    "max_price",
    "quality_factor",
    "order_id",
    "activation_id",
    "wait_seconds",
    "active_only",
]
PLAUSIBLE_VALUES = ["us", "gb", "Germany", "Korea", "tg", "Telegram", "wa", "other", "1", "0", "-1", "us_v"]

huge_text = st.builds(lambda char, count: char * count, st.characters(), st.integers(1_000, 100_000))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=300),
    huge_text,
    st.sampled_from(PLAUSIBLE_VALUES),
)
values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
)
argument_dicts = st.dictionaries(st.sampled_from(PARAMETER_NAMES) | st.text(max_size=20), values, max_size=6)
# A call that would succeed, which the generated arguments then partly replace, so that examples
# also reach the checks behind argument validation. "{activation}" stands for a real activation id.
VALID_ARGUMENTS: dict[str, dict[str, Any]] = {
    "list_countries": {"query": "United", "limit": 5},
    "list_services": {"query": "Tele", "limit": 5},
    "check_price": {"country": "us", "service": "tg"},
    "get_balance": {},
    "list_activations": {"active_only": True, "limit": 5},
    "order_number": {"country": "de", "service": "wa", "max_price": 500, "quality_factor": 50},
    "check_sms": {"activation_id": "{activation}", "wait_seconds": 0},
    "retry_activation": {"activation_id": "{activation}"},
    "cancel_activation": {"activation_id": "{activation}"},
}


@asynccontextmanager
async def serving(data_dir: Path) -> AsyncIterator[Client]:
    """Run a server on an in-process sandbox whose SMS never arrives on its own, with short waits."""
    sandbox = create_app(SandboxConfig(sms_delay_seconds=600, cancel_after_seconds=0, balance_cents=100_000))
    transport = httpx.ASGITransport(app=sandbox, raise_app_exceptions=False)
    provider = PlatfoneProvider(SANDBOX_API_KEY, SANDBOX_BASE_URL, transport=transport, is_sandbox=True)
    server_settings = make_settings(max_wait_seconds=1, poll_interval_seconds=0.2)
    runtime = Runtime(server_settings, provider, data_dir=data_dir)
    async with Client(build_server(server_settings, runtime)) as client:
        yield client


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BlockingPortal, Client, str]]:
    """Return the portal, the client and the id of an activation ordered for the examples to use."""
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(serving(tmp_path_factory.mktemp("ledger"))) as client,
    ):
        order = portal.call(client.call_tool, "order_number", {"country": "us", "service": "tg"})
        assert order.structured_content is not None, order.content
        yield portal, client, order.structured_content["activation_id"]


def arguments_for(tool: str, activation_id: str) -> st.SearchStrategy[dict[str, Any]]:
    """Generate arbitrary argument dicts, and valid ones with some keys replaced or removed."""
    valid = {name: activation_id if value == "{activation}" else value for name, value in VALID_ARGUMENTS[tool].items()}
    altered = st.builds(lambda extra: {**valid, **extra}, argument_dicts)
    reduced = st.builds(
        lambda kept: {name: value for name, value in valid.items() if name in kept},
        st.sets(st.sampled_from(PARAMETER_NAMES)),
    )
    return argument_dicts | altered | reduced


def assert_result_or_tool_error(result: CallToolResult) -> None:
    text = " ".join(getattr(block, "text", "") for block in result.content)
    if result.is_error:
        assert text.strip()
        assert "Traceback" not in text
        return
    assert result.structured_content is not None
    assert result.structured_content["sandbox"] is True


@pytest.mark.parametrize("tool", TOOLS)
def test_tool_survives_arbitrary_arguments(tool: str, served: tuple[BlockingPortal, Client, str]) -> None:
    portal, client, activation_id = served
    listed = {listed_tool.name for listed_tool in portal.call(client.list_tools).tools}
    assert tool in listed

    @settings(max_examples=EXAMPLES_PER_TOOL, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(arguments=arguments_for(tool, activation_id))
    def check(arguments: dict[str, Any]) -> None:
        result = portal.call(client.call_tool, tool, arguments)
        event("tool error" if result.is_error else "result")
        assert_result_or_tool_error(result)

    check()


def test_tool_list_complete(served: tuple[BlockingPortal, Client, str]) -> None:
    portal, client, _ = served

    listed = {tool.name for tool in portal.call(client.list_tools).tools}

    assert listed == set(TOOLS)
