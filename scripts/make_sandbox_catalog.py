"""Write the sandbox's country catalog from pycountry and phonenumbers.

The sandbox ships the generated JSON as package data, so neither library is a
runtime dependency. Run this only to rebuild the file:

    pip install pycountry phonenumbers
    python scripts/make_sandbox_catalog.py
"""

import json
from pathlib import Path

import phonenumbers
import pycountry

DATA_DIR = Path(__file__).resolve().parent.parent / "src" / "sms_activation_mcp" / "sandbox" / "data"

# Names as people write them, where pycountry's formal form ("Korea, Republic of") would read oddly.
NAME_OVERRIDES = {
    "BO": "Bolivia",
    "BQ": "Caribbean Netherlands",
    "CD": "DR Congo",
    "CG": "Republic of the Congo",
    "FM": "Micronesia",
    "GB": "United Kingdom",
    "IR": "Iran",
    "KP": "North Korea",
    "KR": "South Korea",
    "LA": "Laos",
    "MD": "Moldova",
    "MK": "North Macedonia",
    "PS": "Palestine",
    "RU": "Russia",
    "SY": "Syria",
    "TW": "Taiwan",
    "TZ": "Tanzania",
    "US": "United States",
    "VA": "Vatican City",
    "VE": "Venezuela",
    "VG": "British Virgin Islands",
    "VI": "US Virgin Islands",
    "VN": "Vietnam",
}

# Countries whose numbers the sandbox also offers as virtual-only (`_v`) entries.
VIRTUAL_COUNTRIES = ["US", "GB", "CA", "DE", "NL", "FR", "SE", "PL", "ES", "AU"]


def country_entry(country: pycountry.db.Country, dialing_code: int) -> dict[str, object]:
    name = NAME_OVERRIDES.get(country.alpha_2) or getattr(country, "common_name", None) or country.name
    formal = getattr(country, "official_name", None) or country.name
    return {
        "country_id": country.alpha_2.lower(),
        "name": name,
        "alt_name": formal if formal != name else "",
        "codes": [str(dialing_code)],
    }


def main() -> None:
    countries = []
    for country in pycountry.countries:
        dialing_code = phonenumbers.country_code_for_region(country.alpha_2)
        if dialing_code:
            countries.append(country_entry(country, dialing_code))

    by_id = {entry["country_id"]: entry for entry in countries}
    for alpha_2 in VIRTUAL_COUNTRIES:
        real = by_id[alpha_2.lower()]
        countries.append(
            {
                "country_id": f"{real['country_id']}_v",
                "name": f"{real['name']} (virtual)",
                "alt_name": "",
                "codes": real["codes"],
            }
        )

    countries.sort(key=lambda entry: str(entry["country_id"]))
    path = DATA_DIR / "countries.json"
    path.write_text(json.dumps(countries, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(countries)} countries to {path.name}")


if __name__ == "__main__":
    main()
