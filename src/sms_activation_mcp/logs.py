"""Logging to stderr, one line per event, with the API key and tracebacks kept out."""

from __future__ import annotations

import logging
import sys


class SafeFormatter(logging.Formatter):
    """Formats records on one line: an exception shows as its type and message, never a traceback."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s", datefmt="%H:%M:%S")
        self._secrets = tuple(secret for secret in secrets if secret)

    def formatException(self, ei: object) -> str:
        exc_type, exc_value = ei[0], ei[1]  # type: ignore[index]
        return f"  ({getattr(exc_type, '__name__', 'Exception')}: {exc_value})"

    def formatStack(self, stack_info: str) -> str:
        return ""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record).replace("\n", " | ")
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        return text


def configure(level: str, secrets: tuple[str, ...] = ()) -> None:
    """Send every log record to stderr; stdout belongs to the MCP protocol."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(SafeFormatter(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs each request URL at INFO; that is noise on an MCP server's stderr.
    logging.getLogger("httpx").setLevel(logging.WARNING)
