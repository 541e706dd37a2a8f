"""Shared fixtures: a server wired to an in-process sandbox that tests can steer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.types import CallToolResult
from starlette.applications import Starlette

from sms_activation_mcp.config import Settings
from sms_activation_mcp.limits import SpendLimits
from sms_activation_mcp.providers.platfone import PlatfoneProvider
from sms_activation_mcp.runtime import SANDBOX_API_KEY, SANDBOX_BASE_URL, Runtime, sandbox_config
from sms_activation_mcp.sandbox import create_app
from sms_activation_mcp.server import build_server


@dataclass
class Harness:
    """An MCP client connected in-process to a server, and a control client for its sandbox."""

    client: Client
    control: httpx.AsyncClient
    runtime: Runtime
    sandbox: Starlette

    async def call(self, tool: str, **arguments: Any) -> CallToolResult:
        return await self.client.call_tool(tool, arguments)

    async def ok(self, tool: str, **arguments: Any) -> dict[str, Any]:
        result = await self.call(tool, **arguments)
        assert not result.is_error, result.content
        assert result.structured_content is not None
        return result.structured_content

    async def error(self, tool: str, **arguments: Any) -> str:
        result = await self.call(tool, **arguments)
        assert result.is_error, result.structured_content
        return " ".join(getattr(block, "text", "") for block in result.content)

    async def error_details(self, tool: str, **arguments: Any) -> dict[str, Any]:
        """Call a tool that must fail and return the `error` object of its structured content."""
        result = await self.call(tool, **arguments)
        assert result.is_error, result.structured_content
        assert result.structured_content is not None
        details: dict[str, Any] = result.structured_content["error"]
        return details

    async def advance(self, seconds: float) -> None:
        response = await self.control.post("/sandbox/clock/advance", json={"seconds": seconds})
        response.raise_for_status()

    async def deliver_sms(self, activation_id: str, text: str | None = None) -> None:
        body = {"text": text} if text is not None else {}
        response = await self.control.post(f"/sandbox/activations/{activation_id}/sms", json=body)
        response.raise_for_status()

    async def fault(self, **rule: Any) -> None:
        response = await self.control.put("/sandbox/faults", json=rule)
        response.raise_for_status()


@pytest.fixture
def anyio_backend() -> str:
    """Run async tests on asyncio only. Test modules opt in with `pytestmark = pytest.mark.anyio`.
    anyio keeps an async fixture's setup and teardown in one task, as the MCP client's and
    server's task groups require."""
    return "asyncio"


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "sandbox_sms_delay_seconds": 5.0,
        "sandbox_cancel_after_seconds": 30.0,
        "poll_interval_seconds": 0.05,
        "catalog_ttl_seconds": 300.0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings() -> Settings:
    return make_settings()


@pytest.fixture
def limits() -> SpendLimits:
    return SpendLimits()


@pytest.fixture
async def harness(settings: Settings, limits: SpendLimits, tmp_path: Path) -> AsyncIterator[Harness]:
    sandbox = create_app(sandbox_config(settings))
    transport = httpx.ASGITransport(app=sandbox, raise_app_exceptions=False)
    provider = PlatfoneProvider(SANDBOX_API_KEY, SANDBOX_BASE_URL, timeout=5.0, transport=transport, is_sandbox=True)
    runtime = Runtime(settings, provider, limits=limits, data_dir=tmp_path)
    control = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox),
        base_url="http://sandbox.local",
        headers={"X-Api-Key": SANDBOX_API_KEY},
    )
    async with control, Client(build_server(settings, runtime)) as client:
        yield Harness(client=client, control=control, runtime=runtime, sandbox=sandbox)
