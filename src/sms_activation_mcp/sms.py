"""Cleaning of SMS text, which comes from a third party and is data, never instructions."""

from __future__ import annotations

import re
import unicodedata

MAX_SMS_TEXT_CHARS = 1000

# ANSI/VT escape sequences: CSI (ESC [ ... final), OSC (ESC ] ... BEL or ST) and two-byte escapes.
_ESCAPE_SEQUENCE = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]")

# A code is 4 to 8 digits, possibly grouped by one space or dash ("123-456", "12 34 56"),
# standing alone: not part of a longer number such as a phone or a date.
_CODE = re.compile(r"(?<![\d+])(?<!\d[ -])(\d(?:[ -]?\d){3,7})(?![\d])(?![ -]\d)")


def clean_sms_text(text: str | None) -> str | None:
    """Strip terminal escapes and control characters and bound the length of an SMS text."""
    if text is None:
        return None

    text = _ESCAPE_SEQUENCE.sub("", text)
    kept = []
    for char in text:
        if char in "\n\t":
            kept.append(" " if char == "\t" else char)
        elif unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn"):
            kept.append(char)
    cleaned = "".join(kept).strip()

    if len(cleaned) > MAX_SMS_TEXT_CHARS:
        cleaned = cleaned[: MAX_SMS_TEXT_CHARS - 1] + "…"
    return cleaned


def extract_code(text: str | None) -> str | None:
    """Return the first 4-8 digit code in `text` with its spaces and dashes removed, if any."""
    if not text:
        return None

    match = _CODE.search(text)
    if match is None:
        return None
    return re.sub(r"[ -]", "", match.group(1))
