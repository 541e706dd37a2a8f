"""Run every speed benchmark of the server in turn and print their tables.

Run from the repository root:

    .venv/bin/python benchmarks/run_all.py

It takes about three minutes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCHMARKS = ["cold_start.py", "call_overhead.py", "verification_requests.py", "idle_memory.py", "concurrent_waits.py"]


def main() -> int:
    folder = Path(__file__).resolve().parent
    failed = []
    for name in BENCHMARKS:
        print(f"\n## {name}\n", flush=True)
        if subprocess.run([sys.executable, str(folder / name)], check=False).returncode != 0:
            failed.append(name)

    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
