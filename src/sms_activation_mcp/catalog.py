"""The country and service lists, cached in memory and revalidated with ETags.

Each list is fetched once, then served from memory for `ttl_seconds`. The next call
after that sends the stored ETag: an unchanged list keeps its `CatalogSnapshot` object,
so callers may key their own indexes on the snapshot's identity.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sms_activation_mcp.models import CatalogFetch, Country, Service
from sms_activation_mcp.providers.base import Provider
from sms_activation_mcp.providers.errors import InvalidResponseError, ProviderError

logger = logging.getLogger(__name__)

T = TypeVar("T", Country, Service)


@dataclass(frozen=True, eq=False)
class CatalogSnapshot(Generic[T]):
    """One version of a country or service list, with the ETag it was served with."""

    items: tuple[T, ...]
    etag: str | None
    _by_id: dict[str, T] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        by_id: dict[str, T] = {}
        for item in self.items:
            # Upstream ids are unique. Should one repeat, the first entry wins, as in a listing.
            by_id.setdefault(_item_id(item), item)
        object.__setattr__(self, "_by_id", by_id)

    def __repr__(self) -> str:
        return f"CatalogSnapshot({len(self.items)} items, etag={self.etag!r})"

    def get(self, item_id: str) -> T | None:
        """Return the item whose id is exactly `item_id`, or None."""
        return self._by_id.get(item_id)


class _CachedList(Generic[T]):
    """One list behind a TTL, fetched by at most one request at a time."""

    def __init__(
        self,
        kind: str,
        fetch: Callable[[str | None], Awaitable[CatalogFetch[T]]],
        ttl_seconds: float,
        clock: Callable[[], float],
    ) -> None:
        self._kind = kind
        self._fetch: Callable[[str | None], Awaitable[CatalogFetch[T]]] = fetch
        self._ttl_seconds = ttl_seconds
        self._clock = clock
        self._snapshot: CatalogSnapshot[T] | None = None
        self._fetched_at = 0.0
        self._refresh_task: asyncio.Task[CatalogSnapshot[T]] | None = None
        self.fetch_count = 0

    async def get(self) -> CatalogSnapshot[T]:
        """Return the cached snapshot while fresh, otherwise refresh it or join the refresh under way."""
        snapshot = self._snapshot
        if snapshot is not None and self._clock() - self._fetched_at < self._ttl_seconds:
            return snapshot

        if self._refresh_task is None:
            self._refresh_task = asyncio.ensure_future(self._refresh())
            self._refresh_task.add_done_callback(_consume_result)
        refresh_task = self._refresh_task

        try:
            # The shield keeps one cancelled caller from cancelling the refresh that others wait on.
            return await asyncio.shield(refresh_task)
        except ProviderError:
            if self._snapshot is None:
                raise
            return self._snapshot

    async def _refresh(self) -> CatalogSnapshot[T]:
        previous = self._snapshot
        try:
            self.fetch_count += 1
            result = await self._fetch(previous.etag if previous is not None else None)
        except ProviderError as error:
            if previous is not None:
                logger.warning(
                    "refreshing the %s list failed, serving the cached one (%d entries): %s",
                    self._kind,
                    len(previous.items),
                    error.message,
                )
            raise
        finally:
            self._refresh_task = None

        self._fetched_at = self._clock()
        if result.items is None:
            if previous is None:
                raise InvalidResponseError(f"The {self._kind} list was reported unchanged, but none is cached")
            return previous

        self._snapshot = CatalogSnapshot(tuple(result.items), result.etag)
        logger.info("loaded %d %s (etag %s)", len(result.items), self._kind, result.etag)
        return self._snapshot


class Catalog:
    """Countries and services from a `Provider`, cached for `ttl_seconds` and shared by concurrent callers.

    A failed refresh keeps serving the last snapshot and tries again on a later call.
    With nothing cached yet, the `ProviderError` reaches the caller.
    """

    def __init__(
        self, provider: Provider, ttl_seconds: float = 300.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if ttl_seconds < 0:
            raise ValueError(f"ttl_seconds must not be negative, got {ttl_seconds}")

        self._countries = _CachedList[Country]("countries", provider.list_countries, ttl_seconds, clock)
        self._services = _CachedList[Service]("services", provider.list_services, ttl_seconds, clock)

    @property
    def fetch_count(self) -> int:
        """Upstream list requests made so far, full (200) or conditional (304), including failed ones."""
        return self._countries.fetch_count + self._services.fetch_count

    async def countries(self) -> CatalogSnapshot[Country]:
        return await self._countries.get()

    async def services(self) -> CatalogSnapshot[Service]:
        return await self._services.get()


def _item_id(item: Country | Service) -> str:
    return item.country_id if isinstance(item, Country) else item.service_id


def _consume_result(task: asyncio.Task[object]) -> None:
    # Every waiter may have been cancelled, so the refresh's error is fetched here to keep asyncio
    # from logging "exception was never retrieved". The waiters, if any, still receive it.
    if not task.cancelled():
        task.exception()
