"""Resolve what a person calls a country or a service to one entry of a catalog.

One `Resolver` serves either catalog. Its constructor indexes the catalog once, and
`resolve` then works through these steps, stopping at the first that decides:

1. A query that is exactly an entry's id resolves to that entry.
2. A country query that contains the word "virtual" is matched against virtual-only
   entries alone, and every other query against the remaining entries alone.
3. A country query of digits, with or without "+" or "00", is a dialing code.
4. An exact match of the normalized query wins, at the strongest level that has one:
   catalog name or alt_name, then ISO code, then any other known name.
5. Fuzzy matching (rapidfuzz scorers, combined as described at WORD_MATCH_SCORE)
   resolves only when one entry scores at least the catalog's acceptance threshold
   and at least FUZZY_MARGIN more than every other entry. Entries that fit about
   equally come back as `Ambiguous`. Anything else is `NotFound` with the closest
   few entries as suggestions.

Country knowledge (ISO codes, translations, former names) comes from the generated
table in data/country_aliases.json, service aliases from data/service_aliases.json.
Both attach to catalog entries by name, so a catalog with other ids works too.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from importlib.resources import files
from typing import Any, Literal

from rapidfuzz import fuzz, process

from sms_activation_mcp.models import Country, Service
from sms_activation_mcp.names import compact, name_variants, normalize

# Longer queries are no name of a catalog entry, so they get no fuzzy work at all.
MAX_QUERY_LENGTH = 100

# Fuzzy thresholds on rapidfuzz's 0-100 scale, tuned on the labeled queries in
# tests/resolver_cases.py. One typo in a name of five or more letters scores at least 80,
# which resolves countries. Services need 85, because brand names are short and often
# one letter apart from another brand ("Rumble" and "Bumble").
COUNTRY_FUZZY_ACCEPT = 80.0
SERVICE_FUZZY_ACCEPT = 85.0
FUZZY_MARGIN = 8.0
AMBIGUOUS_FLOOR = 78.0
SUGGESTION_FLOOR = 60.0
SEARCH_FLOOR = 75.0

# A fuzzy match of a shorter query ("jap", "ir") is offered as a suggestion, never resolved,
# and names this short ("Kik") are matched by their words only, not as typos.
MIN_FUZZY_LENGTH = 4

MAX_CANDIDATES = 5
MAX_SUGGESTIONS = 3

# Virtual-only entries rank this much lower in search results, unless the query contains the word "virtual".
VIRTUAL_SEARCH_PENALTY = 5.0

_VIRTUAL_WORD = "virtual"
_VIRTUAL_FILLER_WORDS = frozenset({"number", "numbers", "only"})

# Words too common in names to pick fuzzy candidates by.
_STOP_WORDS = frozenset({"of", "the", "and"})
_MAX_QUERY_WORDS = 8

# A word in more names than this is common, and picks fuzzy candidates only when the query has no rarer word.
COMMON_WORD_NAMES = 50

MatchedBy = Literal["id", "name", "alias", "code", "fuzzy"]


@dataclass(frozen=True)
class Candidate:
    """A catalog entry the query may mean, with a match score from 0 to 100."""

    id: str
    name: str
    score: float


@dataclass(frozen=True)
class Resolved:
    """The one catalog entry the query names, and the kind of match that found it."""

    id: str
    name: str
    matched_by: MatchedBy


@dataclass(frozen=True)
class Ambiguous:
    """A query that fits several entries about equally, with at most five of them, best first."""

    query: str
    candidates: tuple[Candidate, ...]


@dataclass(frozen=True)
class NotFound:
    """A query that names no entry, with the closest few entries (possibly none)."""

    query: str
    suggestions: tuple[Candidate, ...]


Resolution = Resolved | Ambiguous | NotFound


class _Level(IntEnum):
    """Kinds of exact match below an id match, strongest first."""

    NAME = 0
    CODE = 1
    ALIAS = 2


_MATCHED_BY: dict[_Level, MatchedBy] = {_Level.NAME: "name", _Level.CODE: "code", _Level.ALIAS: "alias"}

# The fuzzy score of a name is the best of three scores. The rapidfuzz ratio of the whole
# strings catches typos, in names of at least MIN_FUZZY_LENGTH characters.
# WORD_MATCH_SCORE applies when every word of the query is a word of the name ("Korea" in
# "North Korea"). The rapidfuzz partial ratio times PARTIAL_WEIGHT catches a fragment
# ("Guin" in "Guinea") in a name at least PARTIAL_MIN_LENGTH_RATIO times as long as the
# query. A fragment scores at most FRAGMENT_MAX_SCORE, under both acceptance thresholds,
# so it can make a query ambiguous but never resolve it. A name longer or shorter than
# the query by more than MAX_TYPO_LENGTH_CHANGE characters counts as a fragment too,
# because typos seldom add or drop two letters ("Germ" and "German").
WORD_MATCH_SCORE = 95.0
PARTIAL_WEIGHT = 0.79
FRAGMENT_MAX_SCORE = 100 * PARTIAL_WEIGHT
PARTIAL_MIN_LENGTH_RATIO = 1.5
MAX_TYPO_LENGTH_CHANGE = 1


@dataclass(frozen=True)
class _NameGroup:
    """The known names of one country or service, all normalized, the usual name first.

    `names` take part in fuzzy matching, while `exact_names` (translations, and names
    that several countries share) and `codes` match only exactly.
    """

    names: tuple[str, ...]
    exact_names: tuple[str, ...] = ()
    codes: tuple[str, ...] = ()
    region: str = ""


class _Knowledge:
    """The package's tables of known names, indexed once per process for every catalog."""

    def __init__(
        self,
        groups: Sequence[_NameGroup],
        main_regions: dict[str, str] | None = None,
        region_names: Iterable[str] = (),
    ) -> None:
        self.groups = tuple(groups)
        self.main_regions = main_regions or {}
        # Regions larger than one entry ("Africa", "Caribbean"), which fuzzy matching never resolves.
        self.region_names = frozenset(compact(name) for name in region_names)
        self._exact: dict[str, list[tuple[_Level, int]]] = {}
        self._group_by_code: dict[str, int] = {}

        owners: dict[str, set[int]] = {}
        for index, group in enumerate(self.groups):
            for code in group.codes:
                self._exact.setdefault(code, []).append((_Level.CODE, index))
                self._group_by_code.setdefault(code, index)
            for text in (*group.names, *group.exact_names):
                key = compact(text)
                self._exact.setdefault(key, []).append((_Level.ALIAS, index))
                owners.setdefault(key, set()).add(index)

        for matches in self._exact.values():
            matches.sort()
        self._group_by_name = {key: next(iter(found)) for key, found in owners.items() if len(found) == 1}

    def exact(self, key: str) -> list[tuple[_Level, int]]:
        """Return the groups that have `key` as a code or name, strongest level first."""
        return self._exact.get(key, [])

    def attach(self, own_names: Sequence[Sequence[str]], ids: Sequence[str]) -> list[tuple[int, ...]]:
        """Find the groups of each catalog entry.

        An entry gets a group when one of its own names is a name of that group and of no
        other group. An entry without such a name gets the group whose codes include its id.
        When several entries claim one group and some of them carry the group's usual
        name, only those get it, so a catalog listing both "Google" and "YouTube" leaves
        "gmail" with Google.
        """
        claims: dict[int, list[tuple[int, bool]]] = {}
        for entry, names in enumerate(own_names):
            keys = {compact(text) for text in names}
            matched = {self._group_by_name[key] for key in keys if key in self._group_by_name}
            by_id = self._group_by_code.get(compact(normalize(ids[entry])))
            if not matched and by_id is not None:
                matched = {by_id}
            for group in matched:
                claims.setdefault(group, []).append((entry, compact(self.groups[group].names[0]) in keys))

        attached: list[list[int]] = [[] for _ in own_names]
        for group, claimants in sorted(claims.items()):
            if any(usual for _, usual in claimants):
                claimants = [claim for claim in claimants if claim[1]]
            for entry, _ in claimants:
                attached[entry].append(group)
        return [tuple(groups) for groups in attached]


def _read_data(filename: str) -> Any:
    return json.loads((files("sms_activation_mcp") / "data" / filename).read_text(encoding="utf-8"))


@cache
def _country_knowledge() -> _Knowledge:
    """Load the ISO countries' names and codes, and the main region of each dialing code."""
    document = _read_data("country_aliases.json")
    groups = [
        _NameGroup(
            names=tuple(entry["names"]),
            exact_names=(*entry["translations"], *entry["shared_names"]),
            codes=tuple(entry["codes"]),
            region=alpha_2,
        )
        for alpha_2, entry in document["countries"].items()
    ]
    return _Knowledge(groups, document["main_region_by_dialing_code"], document["region_names"])


@cache
def _service_knowledge() -> _Knowledge:
    document = _read_data("service_aliases.json")
    return _Knowledge([_NameGroup(names=tuple(dict.fromkeys(map(normalize, group)))) for group in document["groups"]])


@dataclass(frozen=True)
class _Entry:
    """A catalog entry with its own normalized names and the known-name groups it has."""

    id: str
    name: str
    own_names: tuple[str, ...]
    groups: tuple[int, ...] = ()
    virtual: bool = False
    catch_all: bool = False
    dialing_codes: tuple[str, ...] = ()
    # Dialing codes whose main region (as phonenumbers defines it) this entry is.
    main_region_of: frozenset[str] = frozenset()


def _own_country_names(country: Country) -> tuple[str, ...]:
    names = name_variants(country.name) + name_variants(country.alt_name)
    if country.virtual_only:
        # "United States (virtual)" is found as "United States" among the virtual entries.
        names = [" ".join(word for word in text.split() if word != _VIRTUAL_WORD) for text in names]
    return tuple(dict.fromkeys(text for text in names if text))


def _own_service_names(service: Service) -> tuple[str, ...]:
    # A service's alt_name lists further names separated by commas, as in "Outlook, Hotmail, Skype".
    texts = [service.name, *service.alt_name.split(",")]
    return tuple(dict.fromkeys(variant for text in texts for variant in name_variants(text)))


def _is_catch_all(service: Service) -> bool:
    return "other" in (compact(normalize(service.service_id)), compact(normalize(service.name)))


def _dialing_code(text: str) -> str:
    return text.strip().lstrip("+").strip()


def _is_code_query(compact_query: str) -> bool:
    return compact_query.isascii() and compact_query.isdigit()


def _starting_with(ordered: Sequence[str], prefix: str) -> Iterator[str]:
    """Yield the strings of a sorted sequence that start with `prefix`."""
    position = bisect.bisect_left(ordered, prefix)
    while position < len(ordered) and ordered[position].startswith(prefix):
        yield ordered[position]
        position += 1


class _Partition:
    """The lookup structures over one set of entries: the virtual-only ones or the others."""

    def __init__(self, entries: Sequence[_Entry], members: Sequence[int], knowledge: _Knowledge) -> None:
        self.members = tuple(members)
        self._knowledge = knowledge
        self._names: dict[str, list[int]] = {}
        self._group_members: dict[int, list[int]] = {}
        self._codes: dict[str, list[int]] = {}
        self._texts: list[str] = []
        self._text_members: list[list[int]] = []
        self._text_words: list[frozenset[str]] = []
        self._texts_by_token: dict[str, list[int]] = {}

        text_index: dict[str, int] = {}
        for member in members:
            entry = entries[member]
            for text in entry.own_names:
                self._names.setdefault(compact(text), []).append(member)
            for group in entry.groups:
                self._group_members.setdefault(group, []).append(member)
            for code in entry.dialing_codes:
                self._codes.setdefault(code, []).append(member)

            if entry.catch_all:
                continue
            for text in entry.own_names:
                self._add_searchable(text, member, text_index)
            for group in entry.groups:
                for text in knowledge.groups[group].names:
                    self._add_searchable(text, member, text_index)

        # NOTE: after the main region, entries sharing a code keep catalog order, so "+1"
        # lists Antigua before Canada, and Canada falls outside the first MAX_CANDIDATES.
        for code, holders in self._codes.items():
            holders.sort(key=lambda member: (code not in entries[member].main_region_of, member))

        self._tokens = sorted(self._texts_by_token)
        # Distinct texts can share a compact form, as "e bay" and "ebay" do.
        self._texts_by_compact: dict[str, list[int]] = {}
        for index, text in enumerate(self._texts):
            self._texts_by_compact.setdefault(compact(text), []).append(index)
        self._compact_texts = sorted(self._texts_by_compact)

    def _add_searchable(self, text: str, member: int, text_index: dict[str, int]) -> None:
        index = text_index.get(text)
        if index is None:
            index = text_index[text] = len(self._texts)
            self._texts.append(text)
            self._text_members.append([])
            self._text_words.append(frozenset(text.split()))
            for token in self._text_words[index]:
                self._texts_by_token.setdefault(token, []).append(index)
        if member not in self._text_members[index]:
            self._text_members[index].append(member)

    def exact(self, key: str) -> tuple[_Level, list[int]] | None:
        """Return the members with `key` as a name, code or alias, at the strongest level that has any."""
        named = self._names.get(key)
        if named:
            return _Level.NAME, list(dict.fromkeys(named))

        found: dict[_Level, dict[int, None]] = {}
        for level, group in self._knowledge.exact(key):
            for member in self._group_members.get(group, ()):
                found.setdefault(level, {})[member] = None
        if not found:
            return None

        level = min(found)
        return level, list(found[level])

    def dialing_code(self, compact_query: str) -> list[int]:
        code = compact_query[2:] if compact_query.startswith("00") else compact_query
        return self._codes.get(code, [])

    def fuzzy_scores(self, query: str, floor: float) -> dict[int, float]:
        """Score the members whose names resemble `query`, each by its best-scoring name.

        How a name is scored is described at WORD_MATCH_SCORE. Scores under `floor` are left out.
        """
        query_words = set(query.split())
        text_scores: dict[int, float] = {}
        long_enough: dict[int, str] = {}
        longer: dict[int, str] = {}
        for index in self._candidate_texts(query):
            text = self._texts[index]
            if query_words <= self._text_words[index]:
                text_scores[index] = WORD_MATCH_SCORE
            if len(text) >= MIN_FUZZY_LENGTH:
                long_enough[index] = text
            if len(text) >= PARTIAL_MIN_LENGTH_RATIO * len(query):
                longer[index] = text

        for _, score, index in process.extract(query, long_enough, scorer=fuzz.ratio, limit=None, score_cutoff=floor):
            if abs(len(long_enough[index]) - len(query)) > MAX_TYPO_LENGTH_CHANGE:
                score = min(score, FRAGMENT_MAX_SCORE)
            text_scores[index] = max(score, text_scores.get(index, 0.0))

        fragments = process.extract(
            query, longer, scorer=fuzz.partial_ratio, limit=None, score_cutoff=floor / PARTIAL_WEIGHT
        )
        for _, score, index in fragments:
            text_scores[index] = max(score * PARTIAL_WEIGHT, text_scores.get(index, 0.0))

        scores: dict[int, float] = {}
        for index, score in text_scores.items():
            if score < floor:
                continue
            for member in self._text_members[index]:
                scores[member] = max(score, scores.get(member, 0.0))
        return scores

    def _candidate_texts(self, query: str) -> set[int]:
        """Pick the names worth scoring, so that a resolution stays well under a millisecond on thousands of names.

        Each word of the query brings the names with that word, a word it begins, or a
        word it nearly equals. A common word ("games", "republic") brings none when the
        query has a rarer one. A one-word query that is in no name also brings the names
        close to it as a whole, as for a missing space in "unitedkingdon".
        """
        words = [word for word in query.split() if word not in _STOP_WORDS][:_MAX_QUERY_WORDS]
        has_rare_word = any(len(self._texts_by_token.get(word, ())) <= COMMON_WORD_NAMES for word in words)

        found: set[int] = set()
        unknown = False
        for word in words:
            texts = self._texts_by_token.get(word, [])
            if has_rare_word and len(texts) > COMMON_WORD_NAMES:
                continue

            found.update(texts)
            unknown = unknown or not texts
            if len(word) >= 3:
                for token in _starting_with(self._tokens, word):
                    found.update(self._texts_by_token[token])
            if len(word) >= MIN_FUZZY_LENGTH:
                for token, _, _ in process.extract(word, self._tokens, scorer=fuzz.ratio, score_cutoff=75, limit=10):
                    found.update(self._texts_by_token[token])

        if unknown and len(words) == 1:
            for _, _, index in process.extract(query, self._texts, scorer=fuzz.ratio, score_cutoff=70, limit=10):
                found.add(index)
        return found

    def prefix_scores(self, compact_query: str) -> dict[int, float]:
        """Score the members with a name that starts with the query: 90, up to 99 as the query covers more of it."""
        scores: dict[int, float] = {}
        for text in _starting_with(self._compact_texts, compact_query):
            score = 90.0 + 9.0 * len(compact_query) / len(text)
            for index in self._texts_by_compact[text]:
                for member in self._text_members[index]:
                    scores[member] = max(score, scores.get(member, 0.0))
        return scores


class Resolver:
    """Find catalog entries by what people call them. Build it with `for_countries` or `for_services`."""

    def __init__(self, entries: Sequence[_Entry], knowledge: _Knowledge, *, fuzzy_accept: float) -> None:
        self._entries = tuple(entries)
        self._knowledge = knowledge
        self._fuzzy_accept = fuzzy_accept
        self._by_id = {compact(normalize(entry.id)): index for index, entry in enumerate(entries)}

        real = [index for index, entry in enumerate(entries) if not entry.virtual]
        virtual = [index for index, entry in enumerate(entries) if entry.virtual]
        self._real = _Partition(entries, real, knowledge)
        self._virtual = _Partition(entries, virtual, knowledge) if virtual else None

    def __repr__(self) -> str:
        return f"<Resolver of {len(self._entries)} entries>"

    @classmethod
    def for_countries(cls, countries: Sequence[Country]) -> Resolver:
        knowledge = _country_knowledge()
        own_names = [_own_country_names(country) for country in countries]
        attached = knowledge.attach(own_names, [country.country_id for country in countries])

        entries = []
        for country, names, groups in zip(countries, own_names, attached, strict=True):
            regions = {knowledge.groups[group].region for group in groups}
            codes = tuple(_dialing_code(code) for code in country.dialing_codes)
            entries.append(
                _Entry(
                    id=country.country_id,
                    name=country.name,
                    own_names=names,
                    groups=groups,
                    virtual=country.virtual_only,
                    dialing_codes=codes,
                    main_region_of=frozenset(code for code in codes if knowledge.main_regions.get(code) in regions),
                )
            )
        return cls(entries, knowledge, fuzzy_accept=COUNTRY_FUZZY_ACCEPT)

    @classmethod
    def for_services(cls, services: Sequence[Service]) -> Resolver:
        knowledge = _service_knowledge()
        own_names = [_own_service_names(service) for service in services]
        attached = knowledge.attach(own_names, [service.service_id for service in services])
        entries = [
            _Entry(
                id=service.service_id,
                name=service.name,
                own_names=names,
                groups=groups,
                catch_all=_is_catch_all(service),
            )
            for service, names, groups in zip(services, own_names, attached, strict=True)
        ]
        return cls(entries, knowledge, fuzzy_accept=SERVICE_FUZZY_ACCEPT)

    def resolve(self, query: str) -> Resolution:
        """Resolve `query` to one entry, or return the entries it may mean, or `NotFound`."""
        normalized = normalize(query) if len(query) <= MAX_QUERY_LENGTH else ""
        if not normalized:
            return NotFound(query, ())

        by_id = self._by_id.get(compact(normalized))
        if by_id is not None:
            return self._resolved(by_id, "id")

        wants_virtual, rest = self._split_virtual(normalized)
        partition = self._virtual if wants_virtual and self._virtual is not None else self._real
        if not rest:
            return Ambiguous(query, self._candidates(partition.members[:MAX_CANDIDATES]))

        result = self._resolve_in(partition, query, rest)
        if wants_virtual and isinstance(result, NotFound):
            # Nothing virtual fits, so point at the SIM entries the rest of the query names.
            ranked = sorted(self._search_in(self._real, rest).items(), key=lambda item: (-item[1], item[0]))
            return NotFound(query, tuple(self._candidate(member, score) for member, score in ranked[:MAX_SUGGESTIONS]))
        return result

    def search(self, query: str, limit: int = 20) -> list[Candidate]:
        """Rank the entries that match `query` for a filtered listing, best first.

        An exact name, id or code scores 100, a name that starts with the query 90 to 99,
        and a fuzzy match its fuzzy score. Virtual-only entries rank VIRTUAL_SEARCH_PENALTY
        lower, unless the query contains the word "virtual", and then they are the only ones listed.
        An empty query matches nothing.
        """
        normalized = normalize(query) if len(query) <= MAX_QUERY_LENGTH else ""
        if not normalized or limit <= 0:
            return []

        wants_virtual, rest = self._split_virtual(normalized)
        if wants_virtual and self._virtual is not None:
            scores = self._search_in(self._virtual, rest) if rest else dict.fromkeys(self._virtual.members, 100.0)
        else:
            scores = self._search_in(self._real, normalized)
            if self._virtual is not None:
                for member, score in self._search_in(self._virtual, normalized).items():
                    scores[member] = score - VIRTUAL_SEARCH_PENALTY

        by_id = self._by_id.get(compact(normalized))
        if by_id is not None:
            scores[by_id] = 100.0

        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        return [self._candidate(member, score) for member, score in ranked[:limit]]

    def _split_virtual(self, normalized: str) -> tuple[bool, str]:
        """Return whether the query requests a virtual-only entry, and the query without the words that request it."""
        words = normalized.split()
        if self._virtual is None or _VIRTUAL_WORD not in words:
            return False, normalized

        rest = [word for word in words if word != _VIRTUAL_WORD and word not in _VIRTUAL_FILLER_WORDS]
        return True, normalize(" ".join(rest))

    def _resolve_in(self, partition: _Partition, query: str, normalized: str) -> Resolution:
        key = compact(normalized)
        if _is_code_query(key):
            holders = partition.dialing_code(key)
            if len(holders) == 1:
                return self._resolved(holders[0], "code")
            if holders:
                return Ambiguous(query, self._candidates(holders[:MAX_CANDIDATES]))
            return NotFound(query, ())

        exact = partition.exact(key)
        if exact is not None:
            level, members = exact
            if len(members) == 1:
                return self._resolved(members[0], _MATCHED_BY[level])
            return Ambiguous(query, self._candidates(members[:MAX_CANDIDATES]))

        return self._resolve_fuzzy(partition, query, normalized)

    def _resolve_fuzzy(self, partition: _Partition, query: str, normalized: str) -> Resolution:
        scores = partition.fuzzy_scores(normalized, SUGGESTION_FLOOR)
        ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
        if not ranked:
            return NotFound(query, ())

        suggestions = tuple(self._candidate(member, score) for member, score in ranked[:MAX_SUGGESTIONS])
        if compact(normalized) in self._knowledge.region_names:
            # A region is no single entry, however well its name fits one ("Africa" in "South Africa").
            return NotFound(query, suggestions)

        best_member, best_score = ranked[0]
        close = [(member, score) for member, score in ranked if score >= best_score - FUZZY_MARGIN]
        confident = best_score >= self._fuzzy_accept and len(compact(normalized)) >= MIN_FUZZY_LENGTH
        if confident and len(close) == 1:
            return self._resolved(best_member, "fuzzy")
        if best_score >= AMBIGUOUS_FLOOR and len(close) > 1:
            return Ambiguous(query, tuple(self._candidate(member, score) for member, score in close[:MAX_CANDIDATES]))
        return NotFound(query, suggestions)

    def _search_in(self, partition: _Partition, normalized: str) -> dict[int, float]:
        key = compact(normalized)
        scores: dict[int, float] = {}
        for found in (partition.prefix_scores(key), partition.fuzzy_scores(normalized, SEARCH_FLOOR)):
            for member, score in found.items():
                scores[member] = max(score, scores.get(member, 0.0))

        exact = partition.exact(key)
        exact_members = exact[1] if exact is not None else []
        code_members = partition.dialing_code(key) if _is_code_query(key) else []
        scores.update(dict.fromkeys([*exact_members, *code_members], 100.0))
        return scores

    def _resolved(self, index: int, matched_by: MatchedBy) -> Resolved:
        entry = self._entries[index]
        return Resolved(entry.id, entry.name, matched_by)

    def _candidate(self, index: int, score: float) -> Candidate:
        entry = self._entries[index]
        return Candidate(entry.id, entry.name, round(score, 1))

    def _candidates(self, indexes: Iterable[int]) -> tuple[Candidate, ...]:
        # Exact and dialing-code matches fit their query fully.
        return tuple(self._candidate(index, 100.0) for index in indexes)
