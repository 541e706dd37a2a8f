"""The sandbox's country and service lists, loaded once from the package data."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Generic, TypeVar

from pydantic import TypeAdapter

# pydantic validates TypedDicts only from typing_extensions on Python < 3.12.
from typing_extensions import TypedDict

VIRTUAL_SUFFIX = "_v"


class CountryEntry(TypedDict):
    country_id: str
    name: str
    alt_name: str
    codes: list[str]


class ServiceEntry(TypedDict):
    service_id: str
    name: str
    alt_name: str
    has_description: bool
    has_warning: bool
    prohibited: bool


EntryT = TypeVar("EntryT", CountryEntry, ServiceEntry)


@dataclass(frozen=True)
class CatalogList(Generic[EntryT]):
    """One catalog list as served: its entries by ID, the exact JSON body and the ETag of that body."""

    by_id: dict[str, EntryT]
    body: bytes
    etag: str

    def matches_etag(self, if_none_match: str | None) -> bool:
        """Tell whether an If-None-Match header names this list's ETag (a comma list or `*` counts too)."""
        if if_none_match is None:
            return False

        candidates = {candidate.strip() for candidate in if_none_match.split(",")}
        return "*" in candidates or self.etag in candidates


@dataclass(frozen=True)
class SandboxCatalog:
    countries: CatalogList[CountryEntry]
    services: CatalogList[ServiceEntry]


def is_virtual(country_id: str) -> bool:
    """Tell whether a country rents virtual-only numbers, which Platfone marks with an `_v` suffix."""
    return country_id.endswith(VIRTUAL_SUFFIX)


def _load_list(
    file_name: str, adapter: TypeAdapter[list[EntryT]], entry_id: Callable[[EntryT], str]
) -> CatalogList[EntryT]:
    raw = files("sms_activation_mcp.sandbox").joinpath("data").joinpath(file_name).read_bytes()
    entries = adapter.validate_json(raw)

    # The body is re-encoded compactly so that the ETag is a digest of exactly the bytes sent.
    body = json.dumps(entries, ensure_ascii=False, separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:24] + '"'
    return CatalogList(by_id={entry_id(entry): entry for entry in entries}, body=body, etag=etag)


@cache
def load_catalog() -> SandboxCatalog:
    """Load and validate both lists; the result is read-only, so every app instance shares it."""
    countries = _load_list("countries.json", TypeAdapter(list[CountryEntry]), lambda entry: entry["country_id"])
    services = _load_list("services.json", TypeAdapter(list[ServiceEntry]), lambda entry: entry["service_id"])
    return SandboxCatalog(countries=countries, services=services)
