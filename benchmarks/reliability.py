"""Inject each upstream fault kind many times and count how the tools respond.

The sandbox runs as `sms-activation-mcp sandbox` on a free 127.0.0.1 port and requires a
canary API key; the MCP server runs in this process with that key, behind the official
in-process MCP client. Each fault kind gets a fresh sandbox account and server, then N
calls that cycle through three scenarios: a balance read, an order, and a cancel. Faults
on orders and cancels alternate between "not carried out" and "carried out, response lost".

Prints a markdown table: calls, calls answered correctly, orders attempted, orders the
sandbox received more than once, and places where the canary key was found.

Run: .venv/bin/python benchmarks/reliability.py [--iterations N]
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
from mcp import Client
from mcp.types import CallToolResult
from pydantic import SecretStr

from sms_activation_mcp.config import Settings
from sms_activation_mcp.limits import SpendLimits
from sms_activation_mcp.runtime import Runtime, build_provider
from sms_activation_mcp.server import build_server

CANARY = "canary-bench-3b9f14c7e2a05d68"
TIMEOUT_SECONDS = 1.0
SLOW_SECONDS = 2.0
SCRIPT = Path(sys.executable).with_name("sms-activation-mcp")
FAULTS: dict[str, dict[str, Any]] = {
    "HTTP 500": {"status": 500},
    "HTTP 502": {"status": 502},
    "HTTP 503": {"status": 503},
    "429 + Retry-After: 1": {"status": 429, "retry_after": 1},
    f"response after {SLOW_SECONDS:g} s (timeout {TIMEOUT_SECONDS:g} s)": {"delay_seconds": SLOW_SECONDS},
    "body not JSON": {"body": "not_json"},
    "body cut short": {"body": "truncated"},
    "connection dropped": {"drop_connection": True},
}
# Pairs to order from, in turn, so that no order is refused as a duplicate of an earlier one.
PAIRS = [(country, service) for service in ("tg", "wa", "go", "fb") for country in ("us", "gb", "de", "fr", "nl", "pl")]


@dataclass
class Tally:
    calls: int = 0
    correct: int = 0
    orders_attempted: int = 0
    orders_duplicated: int = 0
    leaks: int = 0
    wrong: list[str] = field(default_factory=list)


class RecordCollector(logging.Handler):
    """Keeps every log record's message and arguments, before any redaction by a formatter."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(f"{record.msg} {record.args!r} {record.exc_info!r}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def port_sandbox(log_path: Path) -> Iterator[str]:
    """Serve the sandbox on a free loopback port, requiring the canary key, and yield its root URL."""
    port = free_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("PLATFONE_", "SMS_MCP_"))}
    environment["SMS_MCP_SANDBOX_BALANCE_CENTS"] = "1000000"
    environment["SMS_MCP_SANDBOX_CANCEL_AFTER_SECONDS"] = "0"
    environment["SMS_MCP_SANDBOX_SMS_DELAY_SECONDS"] = "600"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [str(SCRIPT), "sandbox", "--port", str(port), "--api-key", CANARY], env=environment, stdout=log, stderr=log
        )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{url}/api/v1/user/balance", headers={"X-Api-Key": CANARY}, timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the sandbox did not start listening")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def text_of(result: CallToolResult) -> str:
    return " ".join(getattr(block, "text", "") for block in result.content)


def clear_error(result: CallToolResult) -> bool:
    """Tell whether a result is a tool error with a message under 800 characters and no traceback."""
    text = text_of(result)
    return bool(result.is_error and text.strip() and "Traceback" not in text and len(text) < 800)


class Bench:
    """One fault kind's run: a server, a control client for the sandbox, and the tally."""

    def __init__(self, client: Client, control: httpx.AsyncClient, rule: dict[str, Any]) -> None:
        self.client = client
        self.control = control
        self.rule = rule
        self.tally = Tally()
        self.outputs: list[str] = []
        self._pairs = iter(PAIRS * 10)

    async def call(self, tool: str, **arguments: Any) -> CallToolResult:
        result = await self.client.call_tool(tool, arguments)
        self.outputs.append(result.model_dump_json())
        return result

    async def arm(self, route: str, after_effect: bool = False) -> None:
        # A 429 means the request was not carried out, so it never comes with an after-effect.
        if self.rule.get("status") == 429:
            after_effect = False
        rule = {"route": route, "times": 1, "after_effect": after_effect, **self.rule}
        (await self.control.put("/sandbox/faults", json=rule)).raise_for_status()

    async def upstream(self, path: str) -> dict[str, Any]:
        response = await self.control.get(f"/api/v1{path}")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    async def order_count(self) -> int:
        return int((await self.upstream_stats())["order"])

    async def upstream_stats(self) -> dict[str, int]:
        response = await self.control.get("/sandbox/stats")
        response.raise_for_status()
        counts: dict[str, int] = response.json()
        return counts

    def judge(self, name: str, correct: bool, result: CallToolResult) -> None:
        self.tally.calls += 1
        if correct:
            self.tally.correct += 1
        else:
            self.tally.wrong.append(f"{name}: {text_of(result)[:200]}")

    async def read_balance(self) -> None:
        await self.arm("balance")
        result = await self.call("get_balance")
        truth = await self.upstream("/user/balance")

        content = result.structured_content or {}
        right = not result.is_error and content["reserved"]["cents"] == truth["reserved"]
        self.judge("get_balance", right or clear_error(result), result)

    async def order(self, after_effect: bool) -> None:
        country, service = next(self._pairs)
        before = await self.order_count()
        await self.arm("order", after_effect)

        result = await self.call("order_number", country=country, service=service)
        # A delayed order is carried out or dropped only when its delay ends, so the next scenario waits for that.
        await anyio.sleep(SLOW_SECONDS + 0.2 if "delay_seconds" in self.rule else 0)

        sent = await self.order_count() - before
        self.tally.orders_attempted += 1
        self.tally.orders_duplicated += max(0, sent - 1)
        placed = not result.is_error and bool((result.structured_content or {}).get("activation_id"))
        self.judge("order_number", placed or clear_error(result), result)

    async def cancel(self, after_effect: bool) -> None:
        country, service = next(self._pairs)
        ordered = await self.call("order_number", country=country, service=service)
        if ordered.is_error or ordered.structured_content is None:
            self.judge("order_number before cancel", False, ordered)
            return
        activation_id = ordered.structured_content["activation_id"]
        await self.arm("cancel", after_effect)

        result = await self.call("cancel_activation", activation_id=activation_id)
        truth = await self.upstream(f"/activation/{activation_id}")

        canceled = truth["activation_status"] == "canceled"
        reported = not result.is_error and (result.structured_content or {}).get("status") == "canceled"
        # Correct means the result matches the sandbox's state right after the call.
        self.judge("cancel_activation", reported if canceled else clear_error(result), result)


async def run_kind(sandbox_url: str, rule: dict[str, Any], iterations: int, data_dir: Path) -> tuple[Tally, list[str]]:
    settings = Settings(
        api_key=SecretStr(CANARY),
        api_url=f"{sandbox_url}/api/v1",
        http_timeout_seconds=TIMEOUT_SECONDS,
        data_dir=data_dir,
        log_level="DEBUG",
    )
    runtime = Runtime(settings, build_provider(settings), limits=SpendLimits(max_active=1000), data_dir=data_dir)
    control = httpx.AsyncClient(base_url=sandbox_url, headers={"X-Api-Key": CANARY}, timeout=30)

    async with control:
        (await control.post("/sandbox/reset")).raise_for_status()
        async with Client(build_server(settings, runtime)) as client:
            bench = Bench(client, control, rule)
            # The server reads the balance once at start; let that read pass before any fault is armed.
            with anyio.move_on_after(5):
                while (await bench.upstream_stats())["balance"] == 0:
                    await anyio.sleep(0.05)

            for iteration in range(iterations):
                scenario = iteration % 3
                after_effect = iteration % 2 == 1
                if scenario == 0:
                    await bench.read_balance()
                elif scenario == 1:
                    await bench.order(after_effect)
                else:
                    await bench.cancel(after_effect)
                (await control.delete("/sandbox/faults")).raise_for_status()
    return bench.tally, bench.outputs


async def main(iterations: int) -> None:
    collector = RecordCollector()
    logging.getLogger().addHandler(collector)
    logging.getLogger().setLevel(logging.DEBUG)

    rows = []
    searched = [0, 0]
    with tempfile.TemporaryDirectory() as scratch:
        sandbox_log = Path(scratch) / "sandbox.log"
        with port_sandbox(sandbox_log) as sandbox_url:
            for index, (name, rule) in enumerate(FAULTS.items()):
                collector.texts.clear()
                tally, outputs = await run_kind(sandbox_url, rule, iterations, Path(scratch) / f"data-{index}")
                tally.leaks = sum(CANARY in text for text in [*outputs, *collector.texts])
                searched[0] += len(outputs)
                searched[1] += len(collector.texts)
                rows.append((name, tally))
        sandbox_leaks = sandbox_log.read_text(errors="replace").count(CANARY)

    print("| fault | calls | answered correctly | orders attempted | orders duplicated | secrets leaked |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, tally in rows:
        print(
            f"| {name} | {tally.calls} | {tally.correct} | {tally.orders_attempted} "
            f"| {tally.orders_duplicated} | {tally.leaks} |"
        )
    print(f"\nSearched {searched[0]} tool results and {searched[1]} log records for the canary key.")
    print(f"Canary occurrences in the sandbox's own log: {sandbox_leaks}")
    for name, tally in rows:
        for wrong in tally.wrong:
            print(f"- incorrect result under {name}: {wrong}", file=sys.stderr)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=20, help="calls per fault kind (default 20)")
    anyio.run(main, parser.parse_args().iterations)
