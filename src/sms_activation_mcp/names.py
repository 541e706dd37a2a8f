"""Normal forms of country and service names, so that spellings people treat as equal compare equal.

`normalize` returns the spaced form that fuzzy matching scores, and `compact` the same
text without spaces, which exact lookups use. Both ignore case, accents, punctuation,
apostrophes, "&" against "and", a leading "the" and an abbreviated leading "St", and
both read a flag emoji as its two-letter country code.
"""

from __future__ import annotations

import re
import unicodedata

# Apostrophes and their look-alikes are deleted rather than spaced, so "McDonald's"
# reads as "mcdonalds" and "Cote d'Ivoire" as "cote divoire".
_APOSTROPHES = frozenset("'`´‘’‛′ʹʻʼʽ")

_BRACKETED = re.compile(r"[(\[（][^)\]）]*[)\]）]")

# Letters that NFKD leaves whole, although writers often type them without their stroke or as two letters.
_PLAIN_LETTERS = str.maketrans(
    {"đ": "d", "ð": "d", "ø": "o", "ł": "l", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe", "þ": "th"}
)

# The leading token is expanded, so "St Lucia" and "St. Lucia" match "Saint Lucia".
_LEADING_ABBREVIATIONS = {"st": "saint", "ste": "sainte"}


def _is_optional_mark(char: str) -> bool:
    """Return whether `char` is an accent that writers may leave out.

    Combining marks below U+0900 (Latin, Greek, Cyrillic, Hebrew, Arabic and their
    neighbours) and in the generic combining blocks are optional. Marks of Indic, Thai
    and Japanese scripts are part of the letter, so they stay.
    """
    if unicodedata.category(char) != "Mn":
        return False

    code = ord(char)
    return code < 0x0900 or 0x1AB0 <= code <= 0x20FF or 0xFE20 <= code <= 0xFE2F


# A flag emoji is a pair of regional indicator symbols spelling the ISO 3166 alpha-2 code.
_REGIONAL_INDICATOR_A = 0x1F1E6
_REGIONAL_INDICATOR_Z = 0x1F1FF


def _fold_char(char: str) -> str:
    if char in _APOSTROPHES:
        return ""
    if _REGIONAL_INDICATOR_A <= ord(char) <= _REGIONAL_INDICATOR_Z:
        return chr(ord("a") + ord(char) - _REGIONAL_INDICATOR_A)
    if char.isalnum() or unicodedata.category(char).startswith("M"):
        return char
    return " "


def _ascii_fold_table() -> dict[int, str]:
    table = {code: " " for code in range(128)}
    for code in range(128):
        char = chr(code)
        if char.isalnum():
            table[code] = char.lower()
        elif char in _APOSTROPHES:
            table[code] = ""
    table[ord("&")] = " and "
    return table


# Most names are plain ASCII, and one table lookup per character folds them much faster.
_ASCII_FOLD = _ascii_fold_table()


def normalize(text: str) -> str:
    """Return the comparison form of a name: lowercase words of letters and digits, one space apart."""
    words = (text.translate(_ASCII_FOLD) if text.isascii() else _fold_unicode(text)).split()

    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    if len(words) > 1 and words[0] in _LEADING_ABBREVIATIONS:
        words[0] = _LEADING_ABBREVIATIONS[words[0]]
    return " ".join(words)


def _fold_unicode(text: str) -> str:
    # Casefolding comes first because it can add marks, as in "İ" to "i" with a dot above.
    decomposed = unicodedata.normalize("NFKD", text.replace("&", " and ").casefold())
    stripped = "".join(char for char in decomposed if not _is_optional_mark(char))

    # Recomposing keeps Hangul syllables and voiced kana whole after NFKD split them.
    recomposed = unicodedata.normalize("NFC", stripped).translate(_PLAIN_LETTERS)
    return "".join(_fold_char(char) for char in recomposed)


def name_variants(text: str) -> list[str]:
    """Return the normalized forms of a name: the whole name, then the name without its bracketed parts.

    "Saint Martin (French part)" gives "saint martin french part" and "saint martin".
    """
    whole = normalize(text)
    unbracketed = normalize(_BRACKETED.sub(" ", text))
    if unbracketed and unbracketed != whole:
        return [whole, unbracketed]
    return [whole] if whole else []


def compact(normalized: str) -> str:
    """Return a normalized name without its spaces, so "whats app" and "whatsapp" share one key."""
    return normalized.replace(" ", "")
