"""Tests of the country and service resolver: the labeled queries, then each rule on its own."""

from __future__ import annotations

import json
from importlib.resources import files

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sms_activation_mcp.models import Country, Service
from sms_activation_mcp.names import compact, name_variants, normalize
from sms_activation_mcp.resolver import (
    MAX_CANDIDATES,
    MAX_QUERY_LENGTH,
    MAX_SUGGESTIONS,
    Ambiguous,
    Candidate,
    NotFound,
    Resolution,
    Resolved,
    Resolver,
)
from tests.resolver_cases import (
    COUNTRY_CASES,
    SERVICE_CASES,
    Case,
    sandbox_countries,
    sandbox_services,
    synthetic_services,
)


@pytest.fixture(scope="module")
def countries() -> Resolver:
    return Resolver.for_countries(sandbox_countries())


@pytest.fixture(scope="module")
def services() -> Resolver:
    return Resolver.for_services(sandbox_services())


def resolved_id(result: Resolution) -> str:
    assert isinstance(result, Resolved), result
    return result.id


def candidate_ids(result: Resolution) -> list[str]:
    if isinstance(result, Ambiguous):
        return [candidate.id for candidate in result.candidates]
    if isinstance(result, NotFound):
        return [candidate.id for candidate in result.suggestions]
    return []


def check_case(resolver: Resolver, case: Case) -> None:
    result = resolver.resolve(case.query)
    if case.outcome == "resolved":
        assert isinstance(result, Resolved), result
        assert result.id == case.ids[0], result
    elif case.outcome == "ambiguous":
        assert isinstance(result, Ambiguous), result
        assert set(case.ids) <= set(candidate_ids(result)), result
    else:
        assert isinstance(result, NotFound), result


# The labeled set


def test_labeled_set_size() -> None:
    assert len(COUNTRY_CASES) + len(SERVICE_CASES) >= 300
    assert {case.outcome for case in COUNTRY_CASES} == {"resolved", "ambiguous", "not_found"}
    assert {case.outcome for case in SERVICE_CASES} == {"resolved", "ambiguous", "not_found"}


@pytest.mark.parametrize("case", COUNTRY_CASES, ids=str)
def test_country_case(countries: Resolver, case: Case) -> None:
    check_case(countries, case)


@pytest.mark.parametrize("case", SERVICE_CASES, ids=str)
def test_service_case(services: Resolver, case: Case) -> None:
    check_case(services, case)


def test_labeled_ids_exist() -> None:
    country_ids = {country.country_id for country in sandbox_countries()}
    service_ids = {service.service_id for service in sandbox_services()}
    for case in COUNTRY_CASES:
        assert set(case.ids) <= country_ids, case
    for case in SERVICE_CASES:
        assert set(case.ids) <= service_ids, case


# Normalisation


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  United   STATES ", "united states"),
        ("Côte d’Ivoire", "cote divoire"),
        ("Cote d'Ivoire", "cote divoire"),
        ("Bosnia & Herzegovina", "bosnia and herzegovina"),
        ("The Netherlands", "netherlands"),
        ("the", "the"),
        ("St. Lucia", "saint lucia"),
        ("Guinea-Bissau", "guinea bissau"),
        ("McDonald's", "mcdonalds"),
        ("İspanya", "ispanya"),
        ("Großbritannien", "grossbritannien"),
        ("Łódź", "lodz"),
        ("ＵＳＡ", "usa"),
        ("🇩🇪", "de"),
        ("😀", ""),
        ("???", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_normalize_keeps_scripts_whole() -> None:
    # Marks that are part of a letter in Hangul, kana and Devanagari must survive.
    assert normalize("대한민국") == "대한민국"
    assert normalize("ガーナ") == "ガーナ"
    assert normalize("भारत") == "भारत"
    assert normalize("الصّين") == "الصين"


def test_compact_joins_words() -> None:
    assert compact(normalize("Whats App")) == compact(normalize("WhatsApp"))
    assert compact(normalize("U.S.A.")) == "usa"


def test_name_variants_drop_brackets() -> None:
    assert name_variants("Saint Martin (French part)") == ["saint martin french part", "saint martin"]
    assert name_variants("Germany") == ["germany"]
    assert name_variants("") == []


def test_generated_names_are_normalized() -> None:
    # The resolver reads these without normalizing them, so a change to `normalize` needs a regenerated file.
    document = json.loads((files("sms_activation_mcp") / "data" / "country_aliases.json").read_text(encoding="utf-8"))
    for alpha_2, entry in document["countries"].items():
        for text in entry["codes"] + entry["names"] + entry["translations"] + entry["shared_names"]:
            assert normalize(text) == text, (alpha_2, text)


# Exact matches win


@pytest.mark.parametrize(
    ("query", "expected", "matched_by"),
    [
        ("de", "de", "id"),
        ("Germany", "de", "name"),
        ("Federal Republic of Germany", "de", "name"),
        ("DEU", "de", "code"),
        ("+49", "de", "code"),
        ("Deutschland", "de", "alias"),
        ("Germny", "de", "fuzzy"),
        ("Guinea", "gn", "name"),
        ("Niger", "ne", "name"),
        ("Dominica", "dm", "name"),
    ],
)
def test_country_matched_by(countries: Resolver, query: str, expected: str, matched_by: str) -> None:
    result = countries.resolve(query)
    assert isinstance(result, Resolved), result
    assert result.id == expected
    assert result.matched_by == matched_by


def test_each_entry_resolves_by_name(countries: Resolver, services: Resolver) -> None:
    for country in sandbox_countries():
        assert resolved_id(countries.resolve(country.country_id)) == country.country_id
        assert resolved_id(countries.resolve(country.name)) == country.country_id
    for service in sandbox_services():
        assert resolved_id(services.resolve(service.service_id)) == service.service_id
        assert resolved_id(services.resolve(service.name)) == service.service_id


def test_uk_and_ua_collision(countries: Resolver) -> None:
    assert resolved_id(countries.resolve("uk")) == "gb"
    assert resolved_id(countries.resolve("ua")) == "ua"


def test_shared_dialing_code_main_region_first(countries: Resolver) -> None:
    plus_one = countries.resolve("+1")
    assert isinstance(plus_one, Ambiguous)
    assert plus_one.candidates[0].id == "us"
    plus_seven = countries.resolve("+7")
    assert isinstance(plus_seven, Ambiguous)
    assert [candidate.id for candidate in plus_seven.candidates] == ["ru", "kz"]


# Fuzzy rules


@pytest.mark.parametrize(("query", "suggested"), [("Germ", "de"), ("Mars", "mh"), ("Guinea Biss", "gw")])
def test_fragment_never_resolves(countries: Resolver, query: str, suggested: str) -> None:
    result = countries.resolve(query)
    assert isinstance(result, NotFound), result
    assert result.suggestions[0].id == suggested


def test_region_name_only_suggests(countries: Resolver) -> None:
    result = countries.resolve("Africa")
    assert isinstance(result, NotFound), result
    assert result.suggestions[0].id == "za"


def test_short_name_not_typo_matched(services: Resolver) -> None:
    assert isinstance(services.resolve("Kick"), NotFound)
    assert resolved_id(services.resolve("Kik")) == "kk"


def test_service_typo_needs_closer_match(services: Resolver) -> None:
    rumble = services.resolve("Rumble")
    assert isinstance(rumble, NotFound), rumble
    assert [candidate.id for candidate in rumble.suggestions] == ["bb"]
    assert resolved_id(services.resolve("Bumblee")) == "bb"


# Virtual-only entries


def test_virtual_never_answers_plain_query(countries: Resolver) -> None:
    for case in COUNTRY_CASES:
        words = normalize(case.query).split()
        if "virtual" in words or case.query.casefold().endswith("_v"):
            continue
        result = countries.resolve(case.query)
        ids = [resolved_id(result)] if isinstance(result, Resolved) else candidate_ids(result)
        assert not any(entry_id.endswith("_v") for entry_id in ids), (case.query, result)


def test_virtual_query_answers_only_virtual(countries: Resolver) -> None:
    for query in ["virtual United Kingdom", "UK virtual", "virtual +44", "virtual gb"]:
        assert resolved_id(countries.resolve(query)) == "gb_v", query

    result = countries.resolve("virtual +1")
    assert isinstance(result, Ambiguous)
    assert {candidate.id for candidate in result.candidates} == {"us_v", "ca_v"}


def test_virtual_missing_suggests_sim_entry(countries: Resolver) -> None:
    result = countries.resolve("virtual Japan")
    assert isinstance(result, NotFound)
    assert [candidate.id for candidate in result.suggestions] == ["jp"]


def test_search_ranks_virtual_below_real(countries: Resolver) -> None:
    found = [candidate.id for candidate in countries.search("Germany")]
    assert found[0] == "de"
    assert "de_v" in found
    assert found.index("de_v") > found.index("de")


def test_search_virtual_lists_only_virtual(countries: Resolver) -> None:
    found = countries.search("virtual", limit=50)
    assert len(found) == 10
    assert all(candidate.id.endswith("_v") for candidate in found)
    assert [candidate.id for candidate in countries.search("virtual germany")] == ["de_v"]


# The catch-all service


def test_other_only_by_exact_name(services: Resolver) -> None:
    assert resolved_id(services.resolve("other")) == "other"
    assert resolved_id(services.resolve("OTHER")) == "other"
    for query in ["othr", "others", "other service", "any service", "unknown app", "Narnia Bank"]:
        result = services.resolve(query)
        assert not isinstance(result, Resolved) or result.id != "other", query
        assert "other" not in candidate_ids(result), query


def test_other_not_in_fuzzy_search(services: Resolver) -> None:
    assert [candidate.id for candidate in services.search("other")] == ["other"]
    assert "other" not in [candidate.id for candidate in services.search("othr")]


# Search


def test_search_ranks_exact_then_prefix(countries: Resolver) -> None:
    found = countries.search("ger")
    assert found[0].id == "de"
    assert all(candidate.score <= 100.0 for candidate in found)
    assert [candidate.score for candidate in found] == sorted((candidate.score for candidate in found), reverse=True)


def test_search_word_and_code_matches(countries: Resolver) -> None:
    united = {candidate.id for candidate in countries.search("united")}
    assert {"us", "gb", "ae"} <= united
    assert [candidate.id for candidate in countries.search("+44")][:4] == ["gb", "gg", "im", "je"]


def test_search_exact_alias_first(services: Resolver) -> None:
    found = services.search("youtube")
    assert found[0] == Candidate("go", "Google", 100.0)
    assert "yt" in [candidate.id for candidate in found]


def test_search_limit_and_empty(countries: Resolver) -> None:
    assert len(countries.search("a", limit=3)) == 3
    assert countries.search("a", limit=0) == []
    assert countries.search("") == []
    assert countries.search("   ") == []
    assert countries.search("x" * (MAX_QUERY_LENGTH + 1)) == []


def test_search_typo_finds_entry(services: Resolver) -> None:
    assert services.search("telegarm")[0].id == "tg"


# Bounds


def test_long_query_is_not_found(countries: Resolver) -> None:
    query = "Germany" + " " * MAX_QUERY_LENGTH
    result = countries.resolve(query)
    assert result == NotFound(query, ())


def test_ten_kilobyte_query_is_not_found(services: Resolver) -> None:
    result = services.resolve("telegram " * 1200)
    assert isinstance(result, NotFound)
    assert result.suggestions == ()


def test_candidates_and_suggestions_bounded(countries: Resolver) -> None:
    ambiguous = countries.resolve("Islands")
    assert isinstance(ambiguous, Ambiguous)
    assert len(ambiguous.candidates) == MAX_CANDIDATES
    not_found = countries.resolve("Heard Island")
    assert isinstance(not_found, NotFound)
    assert len(not_found.suggestions) <= MAX_SUGGESTIONS


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_resolve_any_text(text: str) -> None:
    resolver = _shared_country_resolver()
    result = resolver.resolve(text)
    assert isinstance(result, Resolved | Ambiguous | NotFound)
    if isinstance(result, Ambiguous):
        assert 1 < len(result.candidates) <= MAX_CANDIDATES
    if isinstance(result, NotFound):
        assert len(result.suggestions) <= MAX_SUGGESTIONS
    assert all(0.0 <= candidate.score <= 100.0 for candidate in resolver.search(text))


_RESOLVERS: dict[str, Resolver] = {}


def _shared_country_resolver() -> Resolver:
    # Hypothesis rejects function-scoped fixtures, so the property test builds its own once.
    if "countries" not in _RESOLVERS:
        _RESOLVERS["countries"] = Resolver.for_countries(sandbox_countries())
    return _RESOLVERS["countries"]


# Catalogs other than the sandbox's


def test_numeric_ids_attach_by_name() -> None:
    # SMS-Activate style: numeric ids, English names.
    resolver = Resolver.for_countries(
        [
            Country(country_id="0", name="Russia", dialing_codes=("7",)),
            Country(country_id="16", name="United Kingdom", dialing_codes=("44",)),
            Country(country_id="43", name="Germany", dialing_codes=("49",)),
            Country(country_id="187", name="USA", dialing_codes=("1",)),
        ]
    )
    assert resolved_id(resolver.resolve("uk")) == "16"
    assert resolved_id(resolver.resolve("GB")) == "16"
    assert resolved_id(resolver.resolve("Deutschland")) == "43"
    assert resolved_id(resolver.resolve("United States")) == "187"
    assert resolved_id(resolver.resolve("+44")) == "16"
    # An id wins over a dialing code of the same digits.
    assert resolved_id(resolver.resolve("43")) == "43"
    assert resolved_id(resolver.resolve("+7")) == "0"


def test_unknown_name_attaches_by_iso_id() -> None:
    catalog = [Country(country_id="fr", name="Hexagone"), Country(country_id="es", name="Spain")]
    resolver = Resolver.for_countries(catalog)
    assert resolved_id(resolver.resolve("France")) == "fr"
    assert resolved_id(resolver.resolve("Frankreich")) == "fr"


def test_shared_bracket_name_is_ambiguous() -> None:
    resolver = Resolver.for_countries(
        [Country(country_id="c1", name="Korea (South)"), Country(country_id="c2", name="Korea (North)")]
    )
    result = resolver.resolve("Korea")
    assert isinstance(result, Ambiguous)
    assert {candidate.id for candidate in result.candidates} == {"c1", "c2"}
    assert resolved_id(resolver.resolve("South Korea")) == "c1"


def test_alias_group_goes_to_usual_name() -> None:
    resolver = Resolver.for_services(
        [Service(service_id="g", name="Google"), Service(service_id="y", name="YouTube")]
    )
    assert resolved_id(resolver.resolve("YouTube")) == "y"
    assert resolved_id(resolver.resolve("gmail")) == "g"


def test_alias_group_follows_other_name() -> None:
    catalog = [Service(service_id="twitter", name="Twitter"), Service(service_id="fb", name="Meta")]
    resolver = Resolver.for_services(catalog)
    assert resolved_id(resolver.resolve("X")) == "twitter"
    assert resolved_id(resolver.resolve("Facebook")) == "fb"


def test_large_catalog_resolves_its_names() -> None:
    catalog = synthetic_services(2500)
    resolver = Resolver.for_services(catalog)
    for service in catalog[::25]:
        assert resolved_id(resolver.resolve(service.name)) == service.service_id
    assert resolved_id(resolver.resolve("Telegarm")) == "tg"


def test_empty_catalog() -> None:
    resolver = Resolver.for_services([])
    assert resolver.resolve("Telegram") == NotFound("Telegram", ())
    assert resolver.search("Telegram") == []
    assert repr(resolver) == "<Resolver of 0 entries>"
