"""Verification SMS texts, in the style each service sends, around a numeric code."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Literal

CodeStyle = Literal["plain", "dash", "space"]


@dataclass(frozen=True)
class _Template:
    text: str  # with `{code}` and, in the generic ones, `{service}`
    digits: int
    style: CodeStyle = "plain"


_SERVICE_TEMPLATES: dict[str, tuple[_Template, ...]] = {
    "tg": (_Template("Telegram login code: {code}. Nobody from Telegram will ever ask you for it.", 5),),
    "wa": (_Template("Your WhatsApp verification code is {code}. Keep it to yourself.", 6, "dash"),),
    "go": (_Template("Your Google verification code is G-{code}", 6),),
    "fb": (_Template("{code} is your Facebook confirmation code", 8), _Template("Facebook code: {code}", 6)),
    "ig": (_Template("Use {code} to confirm your Instagram account.", 6, "space"),),
    "tw": (_Template("Your X verification code is {code}.", 6),),
    "ds": (_Template("Your Discord security code: {code}", 6),),
    "ch": (_Template("Your OpenAI verification code is {code}. It expires in 10 minutes.", 6),),
    "mm": (_Template("Microsoft account security code: {code}", 7),),
    "ap": (_Template("Your Apple Account code is: {code}. Do not share it with anyone.", 6),),
    "ub": (_Template("Your Uber code: {code}. Never share this code.", 4),),
    "am": (_Template("{code} is your Amazon one-time password. Do not share it.", 6),),
}

_GENERIC_TEMPLATES = (
    _Template("Your {service} verification code is {code}.", 6),
    _Template("{code} is your {service} code. It is valid for 10 minutes.", 6, "space"),
    _Template("{service}: use code {code} to finish signing up. Do not share it.", 4),
    _Template("[{service}] Verification code: {code}. If you did not request it, ignore this message.", 5),
    _Template("Your {service} security code: {code}", 8),
    _Template("Confirm your phone number in {service} with the code {code}.", 6, "dash"),
)

# A code as it appears in a text: 4-8 digits, or two groups of three joined by a dash or a space.
_CODE_IN_TEXT = re.compile(r"(?<!\d)(\d{3})[- ](\d{3})(?!\d)|(?<!\d)(\d{4,8})(?!\d)")


@dataclass(frozen=True)
class ComposedSms:
    text: str
    code: str  # digits only, whatever the style in the text


def compose_sms(service_id: str, service_name: str, rng: random.Random, code: str | None = None) -> ComposedSms:
    """Write an SMS of the service with `code` in it, or with a new code of the template's length."""
    template = rng.choice(_SERVICE_TEMPLATES.get(service_id, _GENERIC_TEMPLATES))
    if code is None:
        code = _draw_code(rng, template.digits)

    text = template.text.format(code=_format_code(code, template.style), service=service_name)
    return ComposedSms(text=text, code=code)


def find_code(text: str) -> str | None:
    """Return the first verification code in a text (digits only), or None if it has none."""
    match = _CODE_IN_TEXT.search(text)
    if match is None:
        return None

    grouped_head, grouped_tail, plain = match.groups()
    return plain if plain is not None else f"{grouped_head}{grouped_tail}"


def _draw_code(rng: random.Random, digits: int) -> str:
    # A leading zero is legal in codes, but services rarely send one, and a reader might drop it.
    first = str(rng.randint(1, 9))
    return first + "".join(str(rng.randint(0, 9)) for _ in range(digits - 1))


def _format_code(code: str, style: CodeStyle) -> str:
    if style == "plain" or len(code) != 6:
        return code

    separator = "-" if style == "dash" else " "
    return f"{code[:3]}{separator}{code[3:]}"
