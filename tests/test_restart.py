"""A server killed right after ordering loses nothing: the ledger has the activation and its price."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

from tests.test_e2e_stdio import PORT_API_KEY, SCRIPT, base_environment, sandbox_url
from tests.test_stdio_protocol import initialize, receive, send

__all__ = ["sandbox_url"]  # the module-scoped fixture that serves the sandbox on a port


def start_server(environment: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(SCRIPT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=environment
    )


def call_tool(process: subprocess.Popen[bytes], request_id: int, tool: str, **arguments: Any) -> dict[str, Any]:
    assert process.stdin is not None and process.stdout is not None
    send(
        process.stdin,
        {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": {"name": tool, "arguments": arguments}},
    )
    while True:
        message = receive(process.stdout)
        if message.get("id") == request_id:
            result: dict[str, Any] = message["result"]
            assert not result.get("isError"), result
            return dict(result["structuredContent"])


def close(process: subprocess.Popen[bytes]) -> None:
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()
    process.wait(timeout=10)


def test_sigkill_after_order_keeps_activation(sandbox_url: str, tmp_path: Path) -> None:
    environment = base_environment()
    environment.update(
        PLATFONE_API_URL=sandbox_url,
        PLATFONE_API_KEY=PORT_API_KEY,
        SMS_MCP_DATA_DIR=str(tmp_path),
        SMS_MCP_SANDBOX_SMS_DELAY_SECONDS="600",
    )

    first = start_server(environment)
    initialize(first)
    order = call_tool(first, 2, "order_number", country="nl", service="go")
    os.kill(first.pid, signal.SIGKILL)
    close(first)

    second = start_server(environment)
    try:
        initialize(second)
        listed = call_tool(second, 2, "list_activations")
        balance = call_tool(second, 3, "get_balance")
    finally:
        close(second)

    ids = [activation["activation_id"] for activation in listed["activations"]]
    assert order["activation_id"] in ids
    assert balance["limits"]["spent_last_24h"]["cents"] == order["price"]["cents"]
    assert json.dumps(listed).count(order["activation_id"]) == 1
    assert list(tmp_path.glob("ledger-sandbox.sqlite3"))
