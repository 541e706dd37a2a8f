"""Helpers shared by the benchmark scripts: a raw JSON-RPC peer over stdio, a sandbox on a port, figures.

Every process these helpers start binds or talks to 127.0.0.1 only, and every server
gets a temporary data directory, so a benchmark never touches the user's ledger.
"""

from __future__ import annotations

import json
import math
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

SCRIPT = Path(sys.executable).with_name("sms-activation-mcp")
SANDBOX_API_KEY = "benchmark-key"
PROTOCOL_VERSION = "2025-06-18"


def server_environment(data_dir: str, **settings: str) -> dict[str, str]:
    """Return this process's environment without any PLATFONE_ or SMS_MCP_ setting, plus `settings`."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("PLATFONE_", "SMS_MCP_"))}
    environment["SMS_MCP_DATA_DIR"] = data_dir
    environment["SMS_MCP_LOG_LEVEL"] = "WARNING"
    environment.update(settings)
    return environment


class StdioPeer:
    """An MCP client reduced to JSON-RPC lines over a child's stdin and stdout, so it adds almost no cost."""

    def __init__(self, command: Sequence[str], environment: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            list(command),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=environment,
        )
        self._next_id = 1

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message).encode() + b"\n")
        self.process.stdin.flush()

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one request and return its result, skipping the notifications that come before it."""
        request_id = self._next_id
        self._next_id += 1
        self.send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or {}})

        assert self.process.stdout is not None
        while True:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError(f"the server closed stdout before its response to {method}")
            message = json.loads(line)
            if message.get("id") != request_id:
                continue
            if "error" in message:
                raise RuntimeError(f"{method} failed: {message['error']}")
            result: dict[str, Any] = message["result"]
            return result

    def initialize(self) -> dict[str, Any]:
        result = self.request(
            "initialize",
            {
                "protocolVersion": PROTOCOL_VERSION,
                "capabilities": {},
                "clientInfo": {"name": "benchmark", "version": "0"},
            },
        )
        self.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return result

    def call_tool(self, name: str, **arguments: Any) -> dict[str, Any]:
        """Call a tool and return its structured content, raising when the tool reports an error."""
        result = self.request("tools/call", {"name": name, "arguments": arguments})
        if result.get("isError"):
            raise RuntimeError(f"{name} failed: {result['content']}")
        structured: dict[str, Any] = result["structuredContent"]
        return structured

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@contextmanager
def stdio_server(command: Sequence[str] | None = None, **settings: str) -> Iterator[StdioPeer]:
    """Run a server (the console script unless `command` is given) with a fresh data directory."""
    with tempfile.TemporaryDirectory(prefix="sms-mcp-bench-") as data_dir:
        peer = StdioPeer(command or [str(SCRIPT)], server_environment(data_dir, **settings))
        try:
            yield peer
        finally:
            peer.close()


class PortSandbox:
    """The sandbox served by `sms-activation-mcp sandbox` on a free loopback port."""

    def __init__(self, port: int) -> None:
        self.root_url = f"http://127.0.0.1:{port}"
        self.api_url = f"{self.root_url}/api/v1"
        self.control = httpx.Client(base_url=self.root_url, headers={"X-Api-Key": SANDBOX_API_KEY})

    def upstream_settings(self) -> dict[str, str]:
        """Return the settings that point a server at this sandbox."""
        return {"PLATFONE_API_URL": self.api_url, "PLATFONE_API_KEY": SANDBOX_API_KEY}

    def stats(self) -> dict[str, int]:
        response = self.control.get("/sandbox/stats")
        response.raise_for_status()
        counts: dict[str, int] = response.json()
        return counts

    def reset(self) -> None:
        self.control.post("/sandbox/reset").raise_for_status()


@contextmanager
def port_sandbox(**settings: str) -> Iterator[PortSandbox]:
    """Serve a sandbox on 127.0.0.1 until the block ends, configured by SMS_MCP_SANDBOX_* `settings`."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="sms-mcp-bench-") as data_dir:
        process = subprocess.Popen(
            [str(SCRIPT), "sandbox", "--port", str(port), "--api-key", SANDBOX_API_KEY],
            env=server_environment(data_dir, **settings),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        sandbox = PortSandbox(port)
        try:
            _wait_until_listening(sandbox)
            yield sandbox
        finally:
            sandbox.control.close()
            process.terminate()
            process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_listening(sandbox: PortSandbox) -> None:
    for _ in range(200):
        try:
            sandbox.stats()
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"the sandbox did not start listening on {sandbox.root_url}")


def percentile(values: Sequence[float], fraction: float) -> float:
    """Return the value below which `fraction` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def milliseconds(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Print rows as a Markdown table, ready to paste into docs/performance.md."""
    print("| " + " | ".join(headers) + " |")
    print("|" + "|".join("---" for _ in headers) + "|")
    for row in rows:
        print("| " + " | ".join(str(cell) for cell in row) + " |")


def print_machine() -> None:
    """Print the CPU count, the CPU model and the Python version the figures were measured on."""
    model = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    print(f"machine: {os.cpu_count()} CPUs, {model}, Python {platform.python_version()}")
