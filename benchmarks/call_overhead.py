"""Measure what one check_sms call costs over stdio, next to the provider request it makes.

Run from the repository root:

    .venv/bin/python benchmarks/call_overhead.py [CALLS]

The sandbox is served on a 127.0.0.1 port and the server reaches it over HTTP, as it
reaches Platfone. The same activation is read three ways, CALLS times each. The first
is check_sms through JSON-RPC lines written straight to the server's stdin, the second
is check_sms through the official MCP client, which also validates the result against
the output schema, and the third is a plain httpx GET from this process. The goal is a
p50 difference of at most 2 ms between check_sms and the plain GET.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable

import anyio
import httpx
from _support import (
    SANDBOX_API_KEY,
    SCRIPT,
    milliseconds,
    percentile,
    port_sandbox,
    print_machine,
    print_table,
    server_environment,
    stdio_server,
)
from mcp import Client, StdioServerParameters

GOAL_P50_SECONDS = 0.002
WARM_UP_CALLS = 20


def time_calls(call: Callable[[], object], calls: int) -> list[float]:
    for _ in range(WARM_UP_CALLS):
        call()

    durations = []
    for _ in range(calls):
        started = time.perf_counter()
        call()
        durations.append(time.perf_counter() - started)
    return durations


async def time_official_client(settings: dict[str, str], activation_id: str, calls: int) -> list[float]:
    with tempfile.TemporaryDirectory(prefix="sms-mcp-bench-") as data_dir:
        parameters = StdioServerParameters(command=str(SCRIPT), args=[], env=server_environment(data_dir, **settings))
        async with Client(parameters) as client:
            for _ in range(WARM_UP_CALLS):
                await client.call_tool("check_sms", {"activation_id": activation_id})

            durations = []
            for _ in range(calls):
                started = time.perf_counter()
                result = await client.call_tool("check_sms", {"activation_id": activation_id})
                durations.append(time.perf_counter() - started)
                assert not result.is_error, result.content
    return durations


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 300

    # SMS delay 600 s: the activation stays waiting, so every read returns the same state.
    with port_sandbox(SMS_MCP_SANDBOX_SMS_DELAY_SECONDS="600") as sandbox:
        settings = sandbox.upstream_settings()
        with stdio_server(**settings) as server:
            server.initialize()
            activation_id = server.call_tool("order_number", country="de", service="wa")["activation_id"]
            raw = time_calls(lambda: server.call_tool("check_sms", activation_id=activation_id), calls)

        official = anyio.run(time_official_client, settings, activation_id, calls)

        with httpx.Client(base_url=sandbox.api_url, headers={"X-Api-Key": SANDBOX_API_KEY}) as http:
            direct = time_calls(lambda: http.get(f"/activation/{activation_id}").raise_for_status(), calls)

    print_machine()
    print(f"one read of an activation, {calls} calls each after {WARM_UP_CALLS} warm-up calls\n")
    rows = []
    for name, durations in [
        ("check_sms, JSON-RPC lines on stdio", raw),
        ("check_sms, official MCP client", official),
        ("httpx GET /activation/{id}", direct),
    ]:
        p50, p99 = percentile(durations, 0.5), percentile(durations, 0.99)
        rows.append([name, milliseconds(p50), milliseconds(p99), milliseconds(p50 - percentile(direct, 0.5))])
    print_table(["path", "p50", "p99", "p50 minus GET"], rows)

    overhead = percentile(raw, 0.5) - percentile(direct, 0.5)
    met = overhead <= GOAL_P50_SECONDS
    print(f"\ngoal: check_sms p50 <= GET p50 + 2 ms (JSON-RPC lines): {'met' if met else 'not met'}")


if __name__ == "__main__":
    main()
