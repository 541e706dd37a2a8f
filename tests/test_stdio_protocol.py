"""The console script as a raw stdio process: bad lines, end of input and SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import pytest

SCRIPT = Path(sys.executable).with_name("sms-activation-mcp")


def start_server(data_dir: Path) -> subprocess.Popen[bytes]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("PLATFONE_", "SMS_MCP_"))}
    environment["SMS_MCP_DATA_DIR"] = str(data_dir)
    return subprocess.Popen(
        [str(SCRIPT)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=environment,
    )


def send(stream: IO[bytes], message: dict[str, Any] | bytes) -> None:
    line = message if isinstance(message, bytes) else json.dumps(message).encode()
    stream.write(line + b"\n")
    stream.flush()


def receive(stream: IO[bytes]) -> dict[str, Any]:
    line = stream.readline()
    assert line, "the server closed stdout"
    message: dict[str, Any] = json.loads(line)
    return message


def initialize(process: subprocess.Popen[bytes]) -> None:
    assert process.stdin is not None and process.stdout is not None
    send(
        process.stdin,
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "raw-test", "version": "0"},
            },
        },
    )
    assert receive(process.stdout)["id"] == 1
    send(process.stdin, {"jsonrpc": "2.0", "method": "notifications/initialized"})


def wait_for_exit(process: subprocess.Popen[bytes], seconds: float) -> int | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return process.returncode
        time.sleep(0.05)
    return None


@pytest.fixture
def server(tmp_path: Path) -> Any:
    process = start_server(tmp_path)
    yield process
    if process.poll() is None:
        process.kill()
    process.wait()
    for stream in (process.stdin, process.stdout, process.stderr):
        if stream is not None:
            stream.close()


def test_malformed_lines_do_not_stop_server(server: subprocess.Popen[bytes]) -> None:
    initialize(server)
    assert server.stdin is not None and server.stdout is not None

    for garbage in (b"this is not json", b'{"jsonrpc": "2.0", "id":', b"\xff\xfe\x00", b"[]", b"{}"):
        send(server.stdin, garbage)
    send(server.stdin, {"jsonrpc": "2.0", "id": 7, "method": "tools/list"})

    # The SDK may reply to a garbled request with an error, but the tools/list result must still arrive.
    for _ in range(10):
        message = receive(server.stdout)
        if message.get("id") == 7:
            break
    assert "order_number" in {tool["name"] for tool in message["result"]["tools"]}


def test_closing_stdin_exits_quickly(server: subprocess.Popen[bytes]) -> None:
    initialize(server)
    assert server.stdin is not None

    server.stdin.close()

    assert wait_for_exit(server, 2.0) is not None


def test_sigterm_exits_quickly(server: subprocess.Popen[bytes]) -> None:
    initialize(server)

    server.send_signal(signal.SIGTERM)

    assert wait_for_exit(server, 2.0) is not None
    assert server.stderr is not None
    assert b"Traceback" not in server.stderr.read()
