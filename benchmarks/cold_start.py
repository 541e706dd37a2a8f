"""Measure cold start: spawn to the `initialize` result and to the `tools/list` result, over stdio.

Run from the repository root:

    .venv/bin/python benchmarks/cold_start.py [RUNS]

It compares the console script with a bare MCPServer that has one tool, written to a
temporary file and run by the same Python. The console script runs twice: on its
in-process sandbox, and pointed at a sandbox on a port, which is how it runs against
Platfone. Runs alternate between them, so
a slow moment of the machine hits all of them. The goal is a median ratio of at most
1.15. Last it prints where the server's own start-up time goes, measured in one process.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from _support import (
    SCRIPT,
    median,
    milliseconds,
    port_sandbox,
    print_machine,
    print_table,
    server_environment,
    stdio_server,
)

GOAL_RATIO = 1.15
OURS = "sms-activation-mcp, in-process sandbox"
OURS_ON_PORT = "sms-activation-mcp, upstream on a port"
BARE = "bare MCPServer, one tool"

BARE_SERVER = '''\
from mcp.server.mcpserver import MCPServer

app = MCPServer("bare")


@app.tool()
def ping() -> str:
    """Reply pong."""
    return "pong"


app.run("stdio")
'''

# Each phase of the server's start, timed in one fresh process after the SDK is imported.
PHASES = """\
import time

started = time.perf_counter()
import mcp.server.mcpserver
sdk = time.perf_counter()
from sms_activation_mcp.cli import main
from sms_activation_mcp.config import Settings
from sms_activation_mcp.server import build_server
ours = time.perf_counter()
settings = Settings()
app = build_server(settings)
built = time.perf_counter()
print(f"{sdk - started} {ours - sdk} {built - ours}")
"""


def time_start(command: Sequence[str], settings: dict[str, str]) -> tuple[float, float]:
    """Return the seconds from spawn to the initialize result and to the tools/list result."""
    started = time.perf_counter()
    with stdio_server(command, **settings) as server:
        server.initialize()
        initialized = time.perf_counter() - started
        tools = server.request("tools/list")["tools"]
        listed = time.perf_counter() - started
    assert tools, "the server listed no tools"
    return initialized, listed


def time_phases(runs: int, python_settings: dict[str, str]) -> list[tuple[str, float]]:
    """Return the median seconds of importing the SDK, importing this package, and building the server."""
    samples: list[list[float]] = []
    with tempfile.TemporaryDirectory(prefix="sms-mcp-bench-") as data_dir:
        for _ in range(runs):
            output = subprocess.run(
                [sys.executable, "-c", PHASES],
                env=server_environment(data_dir, **python_settings),
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            samples.append([float(value) for value in output.split()])

    names = ["import mcp.server.mcpserver", "import sms_activation_mcp", "Settings() and build_server()"]
    return [(name, median([sample[index] for sample in samples])) for index, name in enumerate(names)]


def time_servers(runs: int, python_settings: dict[str, str]) -> dict[str, tuple[float, float]]:
    """Return each server's median seconds to the initialize result and to the tools/list result."""
    with tempfile.TemporaryDirectory(prefix="sms-mcp-bench-") as folder, port_sandbox() as upstream:
        bare_script = Path(folder) / "bare_server.py"
        bare_script.write_text(BARE_SERVER)
        servers: dict[str, tuple[list[str], dict[str, str]]] = {
            OURS: ([str(SCRIPT)], python_settings),
            OURS_ON_PORT: ([str(SCRIPT)], {**python_settings, **upstream.upstream_settings()}),
            BARE: ([sys.executable, str(bare_script)], python_settings),
        }

        # One unmeasured start each fills the file system cache and writes the bytecode caches.
        for command, settings in servers.values():
            time_start(command, settings)

        timings: dict[str, list[tuple[float, float]]] = {name: [] for name in servers}
        for _ in range(runs):
            for name, (command, settings) in servers.items():
                timings[name].append(time_start(command, settings))

    return {
        name: (median([run[0] for run in samples]), median([run[1] for run in samples]))
        for name, samples in timings.items()
    }


def print_servers(title: str, medians: dict[str, tuple[float, float]]) -> None:
    print(f"\n{title}\n")
    bare = medians[BARE]
    rows = [
        [name, milliseconds(initialize), milliseconds(listed), f"{listed / bare[1]:.2f}"]
        for name, (initialize, listed) in medians.items()
    ]
    print_table(["server", "to initialize", "to tools/list", "ratio to bare"], rows)

    verdict = "met" if medians[OURS][1] / bare[1] <= GOAL_RATIO else "not met"
    print(f"\ngoal: ratio <= {GOAL_RATIO} to tools/list (in-process sandbox): {verdict}")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    print_machine()

    with tempfile.TemporaryDirectory(prefix="sms-mcp-pycache-") as pycache:
        # `pip install` writes bytecode for every module, so the servers get it too. Python keeps
        # it under PYTHONPYCACHEPREFIX, which leaves the source tree clean.
        cached = {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": pycache}
        print_servers(f"cold start over stdio, bytecode cached, median of {runs} runs", time_servers(runs, cached))

        print(f"\nstart-up phases inside one process, bytecode cached, median of {runs} runs\n")
        print_table(["phase", "time"], [[name, milliseconds(seconds)] for name, seconds in time_phases(runs, cached)])

    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        # An editable install is then compiled from source at every start, but the SDK is not.
        title = f"cold start over stdio, PYTHONDONTWRITEBYTECODE set as inherited, median of {runs} runs"
        print_servers(title, time_servers(runs, {}))


if __name__ == "__main__":
    main()
