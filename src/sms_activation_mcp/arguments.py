"""Bounds on tool arguments, checked before any upstream call.

The bounds are also published in the tools' input schemas, but the checks here
run in the tool so that a violation comes back as a plain sentence that names the
argument and its allowed range.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BeforeValidator, Field

from sms_activation_mcp.messages import AgentError

MAX_NAME_CHARS = 100
MAX_ID_CHARS = 64
MAX_PRICE_CENTS = 100_000
MAX_LIST_LIMIT = 500

_ID = re.compile(r"[A-Za-z0-9_.:-]+")


CountryArg = Annotated[
    str,
    Field(
        description='Country name, ISO code or id, e.g. "United States", "uk", "de".',
        json_schema_extra={"minLength": 1, "maxLength": MAX_NAME_CHARS},
    ),
]
ServiceArg = Annotated[
    str,
    Field(
        description='Service name or id, e.g. "Telegram", "WhatsApp", "wa".',
        json_schema_extra={"minLength": 1, "maxLength": MAX_NAME_CHARS},
    ),
]


def _number_as_text(value: object) -> object:
    # Agents often send a numeric activation id as a JSON number; it means the same id.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


ActivationIdArg = Annotated[
    str,
    BeforeValidator(_number_as_text),
    Field(
        description="The activation_id that order_number returned.",
        json_schema_extra={"minLength": 1, "maxLength": MAX_ID_CHARS, "pattern": _ID.pattern},
    ),
]
QueryArg = Annotated[
    str | None,
    Field(
        description="Part of a name, a code or an id to search for.", json_schema_extra={"maxLength": MAX_NAME_CHARS}
    ),
]
LimitArg = Annotated[
    int | None,
    Field(
        description="Maximum number of entries to return; all when omitted.",
        json_schema_extra={"minimum": 1, "maximum": MAX_LIST_LIMIT},
    ),
]


def name(argument: str, value: str, *, list_tool: str) -> str:
    """Check a country or service argument and return it stripped."""
    stripped = value.strip()
    if not stripped:
        raise AgentError(
            f"{argument} is empty. Give a name or an id; {list_tool} lists them.",
            code="invalid_argument",
            argument=argument,
        )
    if len(stripped) > MAX_NAME_CHARS:
        raise AgentError(
            f"{argument} is {len(stripped)} characters long; the limit is {MAX_NAME_CHARS}. Give a name or an id.",
            code="invalid_argument",
            argument=argument,
        )
    return stripped


def identifier(argument: str, value: str) -> str:
    """Check an id-like argument (activation_id, order_id) and return it stripped."""
    stripped = value.strip()
    if not stripped or len(stripped) > MAX_ID_CHARS or not _ID.fullmatch(stripped):
        shown = stripped if len(stripped) <= 40 else stripped[:37] + "..."
        raise AgentError(
            f"{argument} {shown!r} is invalid: it must be 1 to {MAX_ID_CHARS} letters, digits or _.:- characters, "
            f"as order_number returned it.",
            code="invalid_argument",
            argument=argument,
        )
    return stripped


def integer_in_range(argument: str, value: int | None, low: int, high: int, unit: str = "") -> int | None:
    if value is None:
        return None
    if not low <= value <= high:
        raise AgentError(
            f"{argument} is {value}; it must be from {low} to {high}{unit}.",
            code="invalid_argument",
            argument=argument,
            minimum=low,
            maximum=high,
        )
    return value


def query(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    if len(value) > MAX_NAME_CHARS:
        raise AgentError(
            f"query is {len(value)} characters long; the limit is {MAX_NAME_CHARS}.",
            code="invalid_argument",
            argument="query",
        )
    return value.strip()
