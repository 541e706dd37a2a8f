"""Write the resolver's table of country names and codes from pycountry and phonenumbers.

The resolver loads the generated JSON as package data, so neither library is a
runtime dependency. Run this only to rebuild the file, after changing the curated
lists below or `sms_activation_mcp.names.normalize`:

    pip install pycountry phonenumbers
    python scripts/make_country_aliases.py

Every name is stored in its normalized form. For each ISO 3166-1 country the file
contains its alpha-2 and alpha-3 codes, its English names (ISO short, official and
common names, ISO 3166-3 former names, and the curated forms below) and its names in
the languages of LANGUAGES, and the names it shares with other countries
(SHARED_NAMES). It also maps each dialing code to the main region that phonenumbers
gives for it.
"""

from __future__ import annotations

import gettext
import json
from collections import defaultdict
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import phonenumbers
import pycountry

from sms_activation_mcp.names import compact, name_variants, normalize

OUTPUT = Path(__file__).resolve().parent.parent / "src" / "sms_activation_mcp" / "data" / "country_aliases.json"

# pycountry's gettext catalogs for the languages agents and their users most often write in.
LANGUAGES = [
    "de", "fr", "es", "it", "pt", "pt_BR", "nl", "sv", "da", "nb_NO", "fi", "pl", "cs", "ro", "hu",
    "el", "tr", "ru", "uk", "ar", "fa", "he", "hi", "id", "vi", "th", "zh_CN", "zh_TW", "zh_HK", "ja", "ko",
]  # fmt: skip

# English short, historic and everyday forms that ISO does not list, and demonyms
# that people use for the country ("a German number").
ENGLISH_NAMES: dict[str, list[str]] = {
    "AE": ["UAE", "Emirates", "Emirati"],
    "AG": ["Antigua"],
    "AR": ["Argentinian", "Argentine"],
    "AT": ["Austrian"],
    "AU": ["Australian"],
    "BA": ["Bosnia"],
    "BE": ["Belgian"],
    "BF": ["Upper Volta"],
    "BN": ["Brunei"],
    "BR": ["Brazilian"],
    "BY": ["Byelorussia", "Belorussia"],
    "CA": ["Canadian"],
    "CD": ["DRC", "DR Congo", "Congo-Kinshasa", "Democratic Republic of Congo", "Zaire"],
    "CG": ["Congo-Brazzaville", "Republic of Congo", "Congo Republic"],
    "CH": ["Swiss"],
    "CI": ["Ivory Coast"],
    "CN": ["PRC", "Mainland China", "Chinese"],
    "CO": ["Colombian"],
    "CV": ["Cape Verde"],
    "CZ": ["Czech"],
    "DE": ["German"],
    "DK": ["Danish"],
    "EG": ["Egyptian"],
    "ES": ["Spanish"],
    "ET": ["Abyssinia"],
    "FI": ["Finnish"],
    "FR": ["French"],
    "GB": ["UK", "U.K.", "Britain", "Great Britain", "England", "Scotland", "Wales", "Northern Ireland", "British"],
    "GR": ["Greek"],
    "HU": ["Hungarian"],
    "ID": ["Indonesian"],
    "IE": ["Irish"],
    "IL": ["Israeli"],
    "IN": ["Indian"],
    "IR": ["Persia"],
    "IT": ["Italian"],
    "JP": ["Japanese"],
    "KE": ["Kenyan"],
    "KG": ["Kirghizia"],
    "KH": ["Kampuchea"],
    "KN": ["Saint Kitts", "Saint Kitts & Nevis"],
    "FK": ["Falklands"],
    "FO": ["Faroes"],
    "KP": ["DPRK", "Korea North", "N. Korea", "North Korean"],
    "KR": ["ROK", "Korea South", "S. Korea", "South Korean"],
    "KZ": ["Kazakh"],
    "LK": ["Ceylon"],
    "MA": ["Moroccan"],
    "MD": ["Moldavia"],
    "MK": ["Macedonia", "FYROM", "Republic of Macedonia"],
    "MM": ["Burma"],
    "MO": ["Macau"],
    "MX": ["Mexican"],
    "MY": ["Malaysian"],
    "NG": ["Nigerian"],
    "NL": ["Holland", "Dutch"],
    "NO": ["Norwegian"],
    "PH": ["Filipino", "Philippine"],
    "PK": ["Pakistani"],
    "PL": ["Polish"],
    "PS": ["Palestinian Territories"],
    "PT": ["Portuguese"],
    "RO": ["Romanian"],
    "RU": ["Russia", "Russian"],
    "SA": ["KSA", "Saudi"],
    "SE": ["Swedish"],
    "SG": ["Singaporean"],
    "ST": ["Sao Tome"],
    "SZ": ["Swaziland"],
    "TH": ["Siam", "Thai"],
    "TL": ["East Timor"],
    "TR": ["Turkey", "Turkish"],
    "TT": ["Trinidad"],
    "TW": ["ROC", "Republic of China", "Formosa"],
    "UA": ["Ukrainian"],
    "US": ["USA", "U.S.", "U.S.A.", "America", "United States of America", "American"],
    "UZ": ["Uzbek"],
    "VA": ["Vatican", "Holy See"],
    "VC": ["Saint Vincent"],
    "VN": ["Vietnamese"],
    "ZA": ["South African"],
    "ZW": ["Rhodesia"],
}

# Everyday names in other languages where pycountry has only the formal one.
NATIVE_NAMES: dict[str, list[str]] = {
    "BY": ["Беларусь", "Белоруссия"],
    "CH": ["Schweiz", "Suisse", "Svizzera", "Suiza"],
    "CZ": ["Česko"],
    "GB": [
        "Великобритания", "Англия", "Британия", "イギリス", "英国", "Großbritannien", "Grande-Bretagne",
        "Gran Bretaña", "Inglaterra", "Inghilterra", "Angleterre", "Gran Bretagna", "Engeland",
    ],
    "IN": ["Bharat"],
    "KR": ["한국", "韓国", "韩国", "南韓"],
    "NL": ["Nederland", "Holanda", "Hollande", "Olanda"],
    "RU": ["Россия", "Росія", "Russland", "Russie", "Rusia", "Rússia", "Rosja", "Rusya", "ロシア", "러시아", "روسيا"],
    "UA": ["Україна", "Украина"],
    "US": ["США", "Америка", "EEUU", "EE.UU.", "Amerika", "アメリカ", "미국", "أمريكا"],
}  # fmt: skip

# Names that mean any of several countries in everyday use. Each of those countries gets
# them as shared names, so a query of just "Congo" comes back ambiguous unless a catalog
# names an entry exactly so.
SHARED_NAMES: dict[tuple[str, ...], list[str]] = {
    ("CD", "CG"): ["Congo", "Kongo", "Конго", "刚果", "剛果", "コンゴ", "콩고", "الكونغو"],
    ("KP", "KR"): ["Korea", "Corea", "Corée", "Coreia", "Kore", "Корея", "Корея", "كوريا"],
    ("VG", "VI"): [
        "Virgin Islands", "Jungferninseln", "Îles Vierges", "Islas Vírgenes", "Ilhas Virgens", "Виргинские острова",
    ],
}  # fmt: skip
# Regions larger than one country. A query naming one of them exactly never resolves by
# fuzzy matching, so "Africa" does not become South Africa nor "Caribbean" the Caribbean
# Netherlands. A catalog entry with exactly such a name still matches it.
REGION_NAMES = [
    "Africa", "Europe", "Asia", "Oceania", "Americas", "North America", "South America", "Central America",
    "Latin America", "LATAM", "Middle East", "Near East", "Far East", "Caribbean", "West Indies", "Scandinavia",
    "Nordics", "Baltics", "Balkans", "Benelux", "EU", "European Union", "Sub-Saharan Africa", "West Africa",
    "East Africa", "North Africa", "Southern Africa", "Southeast Asia", "South Asia", "Central Asia", "East Asia",
    "Asia Pacific", "APAC", "EMEA", "Gulf", "Persian Gulf", "Pacific", "Polynesia", "Melanesia", "Antilles",
    "World", "Worldwide", "Global", "International", "Any", "Any country", "Anywhere", "Random",
]  # fmt: skip

CONTESTED_NAMES = {compact(normalize(name)) for names in SHARED_NAMES.values() for name in names}


def iso_names(country: pycountry.db.Country) -> list[str]:
    """Return the ISO short name of a country, then its official and common names where ISO has them."""
    optional = [getattr(country, field, None) for field in ("official_name", "common_name")]
    return [country.name, *(name for name in optional if name)]


def english_names(country: pycountry.db.Country) -> list[str]:
    """Return the ISO names of a country, with "Korea, Republic of" also as "Republic of Korea"."""
    names = iso_names(country)
    inverted = [invert_comma_form(name) for name in names]
    return names + [name for name in inverted if name]


def invert_comma_form(name: str) -> str | None:
    """Return ISO's "Head, Tail" names as "Tail Head" when the tail is one word or ends in "of [the]"."""
    head, comma, tail = name.partition(", ")
    if not comma:
        return None

    words = tail.split()
    if len(words) == 1 or words[-1] == "of" or words[-2:] == ["of", "the"]:
        return f"{tail} {head}"
    return None


def former_names() -> dict[str, list[str]]:
    """Map alpha-2 codes to ISO 3166-3 former names.

    The last two letters of a former country's alpha-4 code are the code of its
    successor, or "HH" when it has none ("BUMM" Burma became "MM" Myanmar).
    """
    by_successor: dict[str, list[str]] = defaultdict(list)
    for former in pycountry.historic_countries:
        successor = former.alpha_4[2:]
        if successor != "HH" and pycountry.countries.get(alpha_2=successor) is not None:
            by_successor[successor] += [former.name, *filter(None, [invert_comma_form(former.name)])]
    return by_successor


def translated_names(country: pycountry.db.Country, catalogs: Sequence[gettext.NullTranslations]) -> list[str]:
    return [catalog.gettext(name) for catalog in catalogs for name in iso_names(country)]


def normalized_forms(names: list[str]) -> list[str]:
    """Return each distinct normalized form once, in order, leaving out contested names."""
    forms: dict[str, None] = {}
    for name in names:
        for form in name_variants(name):
            if compact(form) not in CONTESTED_NAMES:
                forms.setdefault(form, None)
    return list(forms)


def drop_collisions(table: dict[str, dict[str, list[str]]]) -> None:
    """Keep each name with one country where the readings differ in weight.

    A code or an English name that two countries share is an error in the curated
    lists. A translation that is another country's code or English name is dropped,
    so the English reading wins. A translation two countries share stays with both
    and resolves as ambiguous.
    """
    english_owner: dict[str, str] = {}
    for alpha_2, entry in table.items():
        for form in entry["codes"] + entry["names"]:
            owner = english_owner.setdefault(compact(form), alpha_2)
            if owner != alpha_2:
                raise SystemExit(f"{form!r} is an English name or code of both {owner} and {alpha_2}")

    for alpha_2, entry in table.items():
        kept = [form for form in entry["translations"] if english_owner.get(compact(form), alpha_2) == alpha_2]
        english = {compact(form) for form in entry["codes"] + entry["names"]}
        entry["translations"] = [form for form in kept if compact(form) not in english]


def main_regions() -> dict[str, str]:
    """Map each dialing code to the region phonenumbers lists first for it, such as "1" to "US"."""
    return {
        str(code): regions[0]
        for code, regions in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items())
        if regions and regions[0] != "001"
    }


def build_table() -> dict[str, dict[str, list[str]]]:
    """Collect every country's codes, English names, translations and shared names, all normalized."""
    catalogs = [gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language]) for language in LANGUAGES]
    former = former_names()

    table: dict[str, dict[str, list[str]]] = {}
    for country in sorted(pycountry.countries, key=lambda country: country.alpha_2):
        code = country.alpha_2
        table[code] = {
            "codes": [code.lower(), country.alpha_3.lower()],
            "names": normalized_forms(english_names(country) + former.get(code, []) + ENGLISH_NAMES.get(code, [])),
            "translations": normalized_forms(translated_names(country, catalogs) + NATIVE_NAMES.get(code, [])),
            "shared_names": [],
        }

    drop_collisions(table)
    for owners, names in SHARED_NAMES.items():
        for owner in owners:
            table[owner]["shared_names"] = list(dict.fromkeys(normalize(name) for name in names))
    return table


def format_document(document: dict[str, object]) -> str:
    """Return the JSON text with one country or one value per line, so a regenerated file diffs well."""
    lines = []
    for key, value in document.items():
        if isinstance(value, dict):
            rows = [f"  {json.dumps(name)}: {json.dumps(item, ensure_ascii=False)}" for name, item in value.items()]
            lines.append(f"{json.dumps(key)}: {{\n" + ",\n".join(rows) + "\n }")
        else:
            lines.append(f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n " + ",\n ".join(lines) + "\n}\n"


def main() -> None:
    curated = ENGLISH_NAMES.keys() | NATIVE_NAMES.keys() | {code for owners in SHARED_NAMES for code in owners}
    unknown = curated - {country.alpha_2 for country in pycountry.countries}
    if unknown:
        raise SystemExit(f"curated names for unknown alpha-2 codes: {sorted(unknown)}")

    table = build_table()
    document: dict[str, object] = {
        "generated_by": "scripts/make_country_aliases.py",
        "pycountry_version": metadata.version("pycountry"),
        "phonenumbers_version": phonenumbers.__version__,
        "languages": LANGUAGES,
        "countries": table,
        "main_region_by_dialing_code": main_regions(),
        "region_names": list(dict.fromkeys(normalize(name) for name in REGION_NAMES)),
    }
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(format_document(document), encoding="utf-8")

    names = sum(len(entry["names"]) + len(entry["translations"]) for entry in table.values())
    print(f"wrote {len(table)} countries and {names} names to {OUTPUT.name}")


if __name__ == "__main__":
    main()
