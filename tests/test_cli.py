"""The command line: help, version and invalid settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sms_activation_mcp import __version__

SCRIPT = Path(sys.executable).with_name("sms-activation-mcp")


def run(*arguments: str, **environment: str) -> subprocess.CompletedProcess[str]:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("PLATFONE_", "SMS_MCP_"))}
    clean.update(environment)
    return subprocess.run(
        [str(SCRIPT), *arguments], env=clean, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30
    )


def test_version() -> None:
    result = run("--version")

    assert result.returncode == 0
    assert __version__ in result.stdout


def test_help_names_commands_and_settings() -> None:
    result = run("--help")

    assert result.returncode == 0
    assert "sandbox" in result.stdout
    assert "PLATFONE_API_KEY" in result.stdout


@pytest.mark.parametrize(
    ("environment", "named"),
    [
        ({"SMS_MCP_MAX_WAIT_SECONDS": "soon"}, "SMS_MCP_MAX_WAIT_SECONDS"),
        ({"SMS_MCP_DAILY_BUDGET_CENTS": "-3"}, "SMS_MCP_DAILY_BUDGET_CENTS"),
        ({"PLATFONE_API_KEY": "canary-cli-0001", "PLATFONE_API_URL": "ftp://example.invalid"}, "http"),
    ],
)
def test_invalid_setting_exits_with_message(environment: dict[str, str], named: str) -> None:
    result = run(**environment)

    assert result.returncode == 2
    assert named in result.stderr
    assert "Traceback" not in result.stderr
    assert "canary-cli-0001" not in result.stderr


def test_lowercase_log_level_accepted() -> None:
    result = run("--version", SMS_MCP_LOG_LEVEL="debug")

    assert result.returncode == 0


def test_url_without_key_warns(tmp_path: Path) -> None:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("PLATFONE_", "SMS_MCP_"))}
    clean.update(PLATFONE_API_URL="http://127.0.0.1:9/api/v1", SMS_MCP_DATA_DIR=str(tmp_path))

    process = subprocess.run([str(SCRIPT)], env=clean, input="", capture_output=True, text=True, timeout=30)

    assert "PLATFONE_API_KEY is not" in process.stderr
    assert "Traceback" not in process.stderr
