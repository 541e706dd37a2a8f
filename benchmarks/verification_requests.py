"""Count the upstream requests of one whole verification, per API route.

Run from the repository root:

    .venv/bin/python benchmarks/verification_requests.py

A fresh server, pointed at a sandbox on a 127.0.0.1 port, starts, rents a number with
order_number("United Kingdom", "Telegram") and waits for the code with one check_sms call
with wait_seconds=45. Server and sandbox keep their default timings (SMS after 8 s, a
poll every 10 s), so the run takes about 10 seconds. The sandbox's GET /sandbox/stats
counts the requests.
"""

from __future__ import annotations

from _support import port_sandbox, print_machine, print_table, stdio_server


def main() -> None:
    with port_sandbox() as sandbox, stdio_server(**sandbox.upstream_settings()) as server:
        server.initialize()
        after_start = sandbox.stats()

        order = server.call_tool("order_number", country="United Kingdom", service="Telegram")
        after_order = sandbox.stats()

        result = server.call_tool("check_sms", activation_id=order["activation_id"], wait_seconds=45)
        after_wait = sandbox.stats()

    if not result["sms_code"]:
        raise RuntimeError(f"the wait ended without a code: {result['next_step']}")

    print_machine()
    print("upstream requests of one verification: start, order_number, check_sms(wait_seconds=45)\n")
    routes = [route for route in after_wait if after_wait[route] and route != "total"] + ["total"]
    rows = [
        [
            route,
            after_start[route],
            after_order[route] - after_start[route],
            after_wait[route] - after_order[route],
            after_wait[route],
        ]
        for route in routes
    ]
    print_table(["route", "server start", "order_number", "check_sms wait", "whole verification"], rows)


if __name__ == "__main__":
    main()
