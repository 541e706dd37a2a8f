"""Measure plain check_sms latency while 100 check_sms waits are pending in the same server.

Run from the repository root:

    .venv/bin/python benchmarks/concurrent_waits.py [CALLS]

One server, reached over stdio with the official MCP client, talks to a sandbox on a
127.0.0.1 port whose SMS never arrives by itself. It rents 20 numbers (the sandbox's
limit of active activations), then times CALLS plain check_sms calls twice: with no wait
pending, and while 100 check_sms calls with wait_seconds=45 poll those 20 numbers every
second (POLL_INTERVAL_SECONDS, ten times the rate allowed against Platfone). The waits
are then cancelled.
"""

from __future__ import annotations

import sys
import tempfile
import time

import anyio
from _support import SCRIPT, milliseconds, percentile, port_sandbox, print_machine, print_table, server_environment
from mcp import Client, StdioServerParameters

WAITS = 100
ACTIVATIONS = 20
POLL_INTERVAL_SECONDS = "1"


async def order_numbers(client: Client) -> list[str]:
    """Rent Telegram numbers in ACTIVATIONS countries, since one pair may not be rented twice at once."""
    listing = await client.call_tool("list_countries", {"limit": 100})
    assert listing.structured_content is not None
    ids: list[str] = []
    for country in listing.structured_content["countries"]:
        result = await client.call_tool("order_number", {"country": country["country_id"], "service": "tg"})
        if not result.is_error and result.structured_content is not None:
            ids.append(result.structured_content["activation_id"])
        if len(ids) == ACTIVATIONS:
            return ids
    raise RuntimeError(f"only {len(ids)} countries had Telegram numbers in stock")


async def time_plain_calls(client: Client, activation_id: str, calls: int) -> list[float]:
    durations = []
    for _ in range(calls):
        started = time.perf_counter()
        result = await client.call_tool("check_sms", {"activation_id": activation_id})
        durations.append(time.perf_counter() - started)
        assert not result.is_error, result.content
    return durations


async def measure(settings: dict[str, str], calls: int) -> tuple[list[float], list[float]]:
    with tempfile.TemporaryDirectory(prefix="sms-mcp-bench-") as data_dir:
        environment = server_environment(data_dir, **settings)
        parameters = StdioServerParameters(command=str(SCRIPT), args=[], env=environment)
        async with Client(parameters, read_timeout_seconds=120) as client:
            ids = await order_numbers(client)
            await time_plain_calls(client, ids[0], 20)
            idle = await time_plain_calls(client, ids[0], calls)

            waiting = [anyio.Event() for _ in range(WAITS)]

            async def wait(index: int) -> None:
                async def progressed(progress: float, total: float | None, message: str | None) -> None:
                    waiting[index].set()

                arguments = {"activation_id": ids[index % ACTIVATIONS], "wait_seconds": 45}
                await client.call_tool("check_sms", arguments, progress_callback=progressed)

            async with anyio.create_task_group() as group:
                for index in range(WAITS):
                    group.start_soon(wait, index)
                # A progress notification from every wait means all of them are polling.
                for event in waiting:
                    await event.wait()
                loaded = await time_plain_calls(client, ids[0], calls)
                group.cancel_scope.cancel()
    return idle, loaded


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 200

    with port_sandbox(SMS_MCP_SANDBOX_SMS_DELAY_SECONDS="600", SMS_MCP_SANDBOX_BALANCE_CENTS="100000") as sandbox:
        settings = {
            "SMS_MCP_LOG_LEVEL": "ERROR",
            **sandbox.upstream_settings(),
            "SMS_MCP_MAX_ACTIVE": str(ACTIVATIONS),
            "SMS_MCP_POLL_INTERVAL_SECONDS": POLL_INTERVAL_SECONDS,
        }
        idle, loaded = anyio.run(measure, settings, calls)

    print_machine()
    print(f"plain check_sms over stdio, {calls} calls each, official MCP client\n")
    rows = [
        [label, milliseconds(percentile(durations, 0.5)), milliseconds(percentile(durations, 0.99))]
        for label, durations in [
            ("no wait pending", idle),
            (f"{WAITS} waits pending, polling every {POLL_INTERVAL_SECONDS} s", loaded),
        ]
    ]
    print_table(["condition", "p50", "p99"], rows)


if __name__ == "__main__":
    main()
