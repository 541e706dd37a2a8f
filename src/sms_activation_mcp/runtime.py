"""What the tools share while the server runs: the provider, the catalog and name resolution."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from dataclasses import dataclass
from typing import Generic, TypeVar

import httpx
from mcp.server.mcpserver.exceptions import ToolError

from sms_activation_mcp.catalog import Catalog, CatalogSnapshot
from sms_activation_mcp.config import Settings
from sms_activation_mcp.messages import provider_failure, unresolved_name
from sms_activation_mcp.models import Country, Service
from sms_activation_mcp.providers import ActionNotAllowedError, Provider, ProviderError
from sms_activation_mcp.providers.platfone import PlatfoneProvider
from sms_activation_mcp.resolver import Resolved, Resolver

logger = logging.getLogger(__name__)

SANDBOX_BASE_URL = "http://sandbox.local/api/v1"
SANDBOX_API_KEY = "sandbox"

T = TypeVar("T")
ItemT = TypeVar("ItemT", Country, Service)

# Most entries a list_* query returns; the tool's limit cuts further.
SEARCH_LIMIT = 500


@dataclass(frozen=True)
class _Kind(Generic[ItemT]):
    """How to fetch, index and name one catalog, so both catalogs share one code path."""

    noun: str
    list_tool: str
    fetch: Callable[[Runtime], Awaitable[CatalogSnapshot[ItemT]]]
    build: Callable[[Sequence[ItemT]], Resolver]


def build_provider(settings: Settings) -> PlatfoneProvider:
    """Connect to Platfone when an API key is set, otherwise to the in-process sandbox."""
    if settings.api_key is not None and not settings.uses_sandbox:
        return PlatfoneProvider(
            settings.api_key.get_secret_value(), settings.api_url, timeout=settings.http_timeout_seconds
        )

    from sms_activation_mcp.sandbox import SandboxConfig, create_app

    config = SandboxConfig(
        sms_delay_seconds=settings.sandbox_sms_delay_seconds,
        cancel_after_seconds=settings.sandbox_cancel_after_seconds,
        lifetime_seconds=settings.sandbox_lifetime_seconds,
        balance_cents=settings.sandbox_balance_cents,
    )
    # raise_app_exceptions=False: a sandbox fault that drops the connection arrives as a 500, as over a socket.
    transport = httpx.ASGITransport(app=create_app(config), raise_app_exceptions=False)
    return PlatfoneProvider(
        SANDBOX_API_KEY,
        SANDBOX_BASE_URL,
        timeout=settings.http_timeout_seconds,
        transport=transport,
        is_sandbox=True,
    )


class Runtime:
    """The provider, the catalog and the resolvers built from it, shared by every tool."""

    def __init__(self, settings: Settings, provider: Provider) -> None:
        self.settings = settings
        self.provider = provider
        self.catalog = Catalog(provider, ttl_seconds=settings.catalog_ttl_seconds)
        self._resolvers: dict[str, tuple[object, Resolver]] = {}
        self._orders_in_flight: dict[tuple[str, str], str] = {}

    @property
    def sandbox(self) -> bool:
        return self.provider.is_sandbox

    async def call(
        self,
        action: str,
        request: Callable[[], Awaitable[T]],
        activation_id: str | None = None,
        *,
        explain_refusal: Callable[[], Awaitable[str]] | None = None,
    ) -> T:
        """Run one provider request, turning its failure into a tool error for the agent.

        `explain_refusal` builds the message when the provider refuses the action in the
        activation's current state, from a fresh read of that state.
        """
        try:
            return await request()
        except ActionNotAllowedError as error:
            logger.info("%s refused for %s: %r", action, activation_id or "-", error)
            if explain_refusal is None:
                raise provider_failure(error, action=action, activation_id=activation_id) from None
            raise ToolError(await explain_refusal()) from None
        except ProviderError as error:
            logger.warning("%s failed for %s: %r", action, activation_id or "-", error)
            raise provider_failure(error, action=action, activation_id=activation_id) from None

    async def countries(self) -> CatalogSnapshot[Country]:
        return await self.call("list countries", self.catalog.countries)

    async def services(self) -> CatalogSnapshot[Service]:
        return await self.call("list services", self.catalog.services)

    async def resolve_country(self, query: str) -> Country:
        return await self._resolve(COUNTRIES, query)

    async def resolve_service(self, query: str) -> Service:
        return await self._resolve(SERVICES, query)

    async def search_countries(self, query: str | None) -> list[Country]:
        return await self._search(COUNTRIES, query)

    async def search_services(self, query: str | None) -> list[Service]:
        return await self._search(SERVICES, query)

    async def _resolve(self, kind: _Kind[ItemT], query: str) -> ItemT:
        snapshot = await kind.fetch(self)
        result = self._resolver(kind, snapshot).resolve(query)
        if not isinstance(result, Resolved):
            raise unresolved_name(kind.noun, result, list_tool=kind.list_tool)

        item = snapshot.get(result.id)
        assert item is not None, "the resolver only returns ids of its catalog"
        return item

    async def _search(self, kind: _Kind[ItemT], query: str | None) -> list[ItemT]:
        """Return the whole catalog in its order, or the entries matching `query`, best first."""
        snapshot = await kind.fetch(self)
        if query is None:
            return list(snapshot.items)

        found = self._resolver(kind, snapshot).search(query, limit=SEARCH_LIMIT)
        return [item for candidate in found if (item := snapshot.get(candidate.id)) is not None]

    def _resolver(self, kind: _Kind[ItemT], snapshot: CatalogSnapshot[ItemT]) -> Resolver:
        # The catalog keeps the same snapshot object while the upstream list is unchanged,
        # so the index is built once per catalog version.
        cached = self._resolvers.get(kind.noun)
        if cached is not None and cached[0] is snapshot:
            return cached[1]

        resolver = kind.build(snapshot.items)
        self._resolvers[kind.noun] = (snapshot, resolver)
        return resolver

    @asynccontextmanager
    async def single_order(self, country_id: str, service_id: str) -> AsyncIterator[None]:
        """Let one order per country and service run at a time, so a repeated call cannot rent twice."""
        key = (country_id, service_id)
        if key in self._orders_in_flight:
            raise ToolError(
                f"An order for {service_id} in {country_id} is already in progress "
                f"(started {self._orders_in_flight[key]}). Wait for its result instead of ordering again."
            )

        self._orders_in_flight[key] = datetime.now(timezone.utc).strftime("%H:%M:%S UTC")
        try:
            yield
        finally:
            del self._orders_in_flight[key]

    async def aclose(self) -> None:
        await self.provider.aclose()


COUNTRIES: _Kind[Country] = _Kind("country", "list_countries", Runtime.countries, Resolver.for_countries)
SERVICES: _Kind[Service] = _Kind("service", "list_services", Runtime.services, Resolver.for_services)
