"""Plausible mobile numbers for a country: its dialing code, then national digits, no `+`."""

from __future__ import annotations

import random

_E164_MAX_DIGITS = 15
_DEFAULT_TOTAL_DIGITS = 11

# National number lengths of the larger numbering plans; others get an 11-digit total.
_NATIONAL_DIGITS = {
    "1": 10, "7": 10, "20": 10, "27": 9, "30": 10, "31": 9, "32": 9, "33": 9, "34": 9, "36": 9,
    "39": 10, "40": 9, "41": 9, "43": 10, "44": 10, "45": 8, "46": 9, "47": 8, "48": 9, "49": 11,
    "51": 9, "52": 10, "54": 10, "55": 11, "56": 9, "57": 10, "58": 10, "60": 9, "61": 9, "62": 11,
    "63": 10, "64": 9, "65": 8, "66": 9, "81": 10, "82": 10, "84": 9, "86": 11, "90": 10, "91": 10,
    "92": 10, "234": 10, "351": 9, "380": 9, "852": 8, "880": 10, "966": 9, "971": 9, "972": 9,
}  # fmt: skip

# Leading national digits that mobile numbers start with in those plans.
_MOBILE_PREFIXES = {
    "7": ("9",), "31": ("6",), "33": ("6", "7"), "34": ("6", "7"), "39": ("3",), "44": ("7",),
    "49": ("15", "16", "17"), "55": ("11", "21", "31"), "61": ("4",), "62": ("8",), "81": ("70", "80", "90"),
    "82": ("10",), "86": ("13", "15", "18"), "90": ("5",), "91": ("6", "7", "8", "9"), "234": ("80", "81"),
    "380": ("50", "67", "93"), "971": ("5",), "972": ("5",),
}  # fmt: skip

# Area codes of the countries that share +1 with the USA and Canada (North American Numbering Plan).
_NANP_AREA_CODES = {
    "ag": "268", "ai": "264", "as": "684", "bb": "246", "bm": "441", "bs": "242", "dm": "767",
    "do": "809", "gd": "473", "gu": "671", "jm": "876", "kn": "869", "ky": "345", "lc": "758",
    "mp": "670", "ms": "664", "pr": "787", "sx": "721", "tc": "649", "tt": "868", "vc": "784",
    "vg": "284", "vi": "340",
}  # fmt: skip


def make_phone(country_id: str, dialing_code: str, rng: random.Random) -> str:
    """Draw a mobile number of the country, in E.164 digits without the leading `+`."""
    national_digits = _NATIONAL_DIGITS.get(dialing_code, _DEFAULT_TOTAL_DIGITS - len(dialing_code))
    national_digits = max(6, min(national_digits, _E164_MAX_DIGITS - len(dialing_code)))

    if dialing_code == "1":
        prefix = _NANP_AREA_CODES.get(country_id.removesuffix("_v")) or _draw_nanp_area_code(rng)
        # NANP exchange codes never start with 0 or 1.
        prefix += str(rng.randint(2, 9))
    else:
        prefix = rng.choice(_MOBILE_PREFIXES.get(dialing_code, ("",)))
        if not prefix:
            prefix = str(rng.randint(2, 9))

    rest = "".join(str(rng.randint(0, 9)) for _ in range(national_digits - len(prefix)))
    return dialing_code + prefix + rest


def _draw_nanp_area_code(rng: random.Random) -> str:
    # Area codes start with 2-9 and never end in 11, which marks service codes such as 911.
    while True:
        code = f"{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(0, 9)}"
        if not code.endswith("11"):
            return code
