"""Measure the resident memory of an idle server after its catalog has loaded.

Run from the repository root:

    .venv/bin/python benchmarks/idle_memory.py

Each server is started over stdio, asked for list_countries once (which loads the country
list), given a second to settle, and then its VmRSS and VmHWM are read from
/proc/PID/status, so this runs on Linux only. A bare MCPServer with one tool, run by the
same Python, is the baseline.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from _support import StdioPeer, port_sandbox, print_machine, print_table, stdio_server
from cold_start import BARE_SERVER

SETTLE_SECONDS = 1.0


def memory_of(server: StdioPeer) -> tuple[int, int]:
    """Return the process's resident and peak resident memory, in KiB."""
    fields = {}
    for line in Path(f"/proc/{server.process.pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.split()[0] if value.split() else ""
    return int(fields["VmRSS"]), int(fields["VmHWM"])


def idle_memory(command: list[str] | None, call_catalog: bool, **settings: str) -> tuple[int, int]:
    with stdio_server(command, **settings) as server:
        server.initialize()
        if call_catalog:
            server.call_tool("list_countries", limit=5)
        time.sleep(SETTLE_SECONDS)
        return memory_of(server)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="sms-mcp-bench-") as folder, port_sandbox() as upstream:
        bare_script = Path(folder) / "bare_server.py"
        bare_script.write_text(BARE_SERVER)
        figures = {
            "sms-activation-mcp, in-process sandbox": idle_memory(None, True),
            "sms-activation-mcp, upstream on a port": idle_memory(None, True, **upstream.upstream_settings()),
            "bare MCPServer, one tool": idle_memory([sys.executable, str(bare_script)], False),
        }

    print_machine()
    print(f"idle server, {SETTLE_SECONDS:.0f} s after list_countries (bare server: after initialize)\n")
    rows = [[name, f"{rss / 1024:.1f} MiB", f"{peak / 1024:.1f} MiB"] for name, (rss, peak) in figures.items()]
    print_table(["server", "VmRSS", "VmHWM (peak)"], rows)


if __name__ == "__main__":
    main()
