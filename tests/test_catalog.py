"""Catalog: TTL, ETag revalidation, snapshot identity, single flight and stale fallback."""

from __future__ import annotations

import asyncio
import logging
from typing import cast

import httpx
import pytest
import respx

from sms_activation_mcp.catalog import Catalog, CatalogSnapshot
from sms_activation_mcp.models import CatalogFetch, Country, Service
from sms_activation_mcp.providers.base import Provider
from sms_activation_mcp.providers.errors import InvalidResponseError, ProviderError, UpstreamUnavailableError
from sms_activation_mcp.providers.platfone import PlatfoneProvider
from sms_activation_mcp.providers.retry import RetryPolicy
from tests.test_platfone import BASE_URL, CANARY_KEY, no_sleep

pytestmark = pytest.mark.anyio

UK = Country(country_id="uk", name="United Kingdom", dialing_codes=("44",))
US = Country(country_id="us", name="United States", dialing_codes=("1",))
TELEGRAM = Service(service_id="tg", name="Telegram")

CountryResult = CatalogFetch[Country] | ProviderError


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeProvider:
    """Serves queued list results and records the ETag each request carried.

    While `gate` is set, every request waits for it, so tests can hold a fetch open.
    """

    def __init__(self) -> None:
        self.country_results: list[CountryResult] = []
        self.country_etags: list[str | None] = []
        self.service_etags: list[str | None] = []
        self.gate: asyncio.Event | None = None

    async def list_countries(self, etag: str | None = None) -> CatalogFetch[Country]:
        self.country_etags.append(etag)
        if self.gate is not None:
            await self.gate.wait()

        result = self.country_results.pop(0)
        if isinstance(result, ProviderError):
            raise result
        return result

    async def list_services(self, etag: str | None = None) -> CatalogFetch[Service]:
        self.service_etags.append(etag)
        return CatalogFetch[Service](items=[TELEGRAM], etag="services-v1")


async def call_concurrently(catalog: Catalog, provider: FakeProvider, count: int) -> list[object]:
    """Start `count` calls to `catalog.countries()` while the provider holds its response, then release it."""
    provider.gate = asyncio.Event()
    callers = [asyncio.ensure_future(catalog.countries()) for _ in range(count)]
    await asyncio.sleep(0)
    provider.gate.set()
    return await asyncio.gather(*callers, return_exceptions=True)


def countries(*items: Country, etag: str | None) -> CatalogFetch[Country]:
    return CatalogFetch[Country](items=list(items), etag=etag)


def unchanged(etag: str) -> CatalogFetch[Country]:
    return CatalogFetch[Country](items=None, etag=etag)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def provider() -> FakeProvider:
    return FakeProvider()


@pytest.fixture
def catalog(provider: FakeProvider, clock: FakeClock) -> Catalog:
    return Catalog(cast(Provider, provider), ttl_seconds=300.0, clock=clock)


async def test_served_from_memory_within_ttl(catalog: Catalog, provider: FakeProvider, clock: FakeClock) -> None:
    provider.country_results = [countries(UK, US, etag="v1")]

    first = await catalog.countries()
    clock.now += 299.0
    second = await catalog.countries()

    assert first is second
    assert first.items == (UK, US)
    assert first.etag == "v1"
    assert catalog.fetch_count == 1
    assert provider.country_etags == [None]


async def test_revalidated_after_ttl_keeps_identity(catalog: Catalog, provider: FakeProvider, clock: FakeClock) -> None:
    provider.country_results = [countries(UK, etag="v1"), unchanged("v1")]

    first = await catalog.countries()
    clock.now += 300.0
    second = await catalog.countries()
    clock.now += 299.0
    third = await catalog.countries()

    assert provider.country_etags == [None, "v1"]
    assert second is first
    assert third is first
    assert catalog.fetch_count == 2


async def test_changed_list_replaces_snapshot(catalog: Catalog, provider: FakeProvider, clock: FakeClock) -> None:
    provider.country_results = [countries(UK, etag="v1"), countries(UK, US, etag="v2"), unchanged("v2")]

    first = await catalog.countries()
    clock.now += 301.0
    second = await catalog.countries()
    clock.now += 301.0
    third = await catalog.countries()

    assert second is not first
    assert second.items == (UK, US)
    assert second.etag == "v2"
    assert third is second
    assert provider.country_etags == [None, "v1", "v2"]


async def test_zero_ttl_revalidates_every_call(provider: FakeProvider, clock: FakeClock) -> None:
    catalog = Catalog(cast(Provider, provider), ttl_seconds=0.0, clock=clock)
    provider.country_results = [countries(UK, etag="v1"), unchanged("v1"), unchanged("v1")]

    snapshots = [await catalog.countries() for _ in range(3)]

    assert catalog.fetch_count == 3
    assert snapshots[0] is snapshots[1] is snapshots[2]


async def test_concurrent_callers_share_fetch(catalog: Catalog, provider: FakeProvider) -> None:
    provider.country_results = [countries(UK, etag="v1")]

    snapshots = await call_concurrently(catalog, provider, 50)

    assert catalog.fetch_count == 1
    assert isinstance(snapshots[0], CatalogSnapshot)
    assert all(snapshot is snapshots[0] for snapshot in snapshots)


async def test_concurrent_revalidation_shares_fetch(catalog: Catalog, provider: FakeProvider, clock: FakeClock) -> None:
    provider.country_results = [countries(UK, etag="v1"), countries(US, etag="v2")]
    await catalog.countries()
    clock.now += 301.0

    snapshots = await call_concurrently(catalog, provider, 50)

    assert catalog.fetch_count == 2
    assert all(isinstance(snapshot, CatalogSnapshot) and snapshot.etag == "v2" for snapshot in snapshots)


async def test_cancelled_caller_keeps_shared_fetch(catalog: Catalog, provider: FakeProvider) -> None:
    provider.country_results = [countries(UK, etag="v1")]
    provider.gate = asyncio.Event()

    first = asyncio.ensure_future(catalog.countries())
    second = asyncio.ensure_future(catalog.countries())
    await asyncio.sleep(0)
    first.cancel()
    provider.gate.set()
    snapshot = await second

    assert first.cancelled()
    assert snapshot.items == (UK,)
    assert catalog.fetch_count == 1


async def test_failed_revalidation_serves_old_snapshot(
    catalog: Catalog, provider: FakeProvider, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    provider.country_results = [
        countries(UK, etag="v1"),
        UpstreamUnavailableError("GET /activation/countries failed with HTTP 503", status_code=503),
        countries(UK, US, etag="v2"),
    ]
    first = await catalog.countries()
    clock.now += 301.0

    with caplog.at_level(logging.WARNING, logger="sms_activation_mcp.catalog"):
        during_outage = await catalog.countries()
    after_outage = await catalog.countries()

    assert during_outage is first
    assert "refreshing the countries list failed, serving the cached one (1 entries)" in caplog.text
    assert "HTTP 503" in caplog.text
    assert after_outage.etag == "v2"
    assert provider.country_etags == [None, "v1", "v1"]


async def test_failure_without_snapshot_raises(catalog: Catalog, provider: FakeProvider) -> None:
    outage = UpstreamUnavailableError("GET /activation/countries failed with HTTP 503", status_code=503)
    provider.country_results = [outage, countries(UK, etag="v1")]

    with pytest.raises(UpstreamUnavailableError) as caught:
        await catalog.countries()
    snapshot = await catalog.countries()

    assert caught.value is outage
    assert snapshot.items == (UK,)
    assert catalog.fetch_count == 2


async def test_concurrent_failure_shared(catalog: Catalog, provider: FakeProvider) -> None:
    provider.country_results = [UpstreamUnavailableError("down", status_code=503)]

    results = await call_concurrently(catalog, provider, 10)

    assert catalog.fetch_count == 1
    assert all(isinstance(result, UpstreamUnavailableError) for result in results)


async def test_unchanged_without_snapshot_invalid(catalog: Catalog, provider: FakeProvider) -> None:
    provider.country_results = [unchanged("v1")]

    with pytest.raises(InvalidResponseError, match="countries"):
        await catalog.countries()


async def test_lists_cached_separately(catalog: Catalog, provider: FakeProvider) -> None:
    provider.country_results = [countries(UK, etag="v1")]

    services = await catalog.services()
    await catalog.services()
    country_list = await catalog.countries()

    assert services.items == (TELEGRAM,)
    assert services.get("tg") is TELEGRAM
    assert country_list.get("uk") is UK
    assert provider.service_etags == [None]
    assert catalog.fetch_count == 2


def test_negative_ttl_rejected(provider: FakeProvider) -> None:
    with pytest.raises(ValueError, match="ttl_seconds"):
        Catalog(cast(Provider, provider), ttl_seconds=-1.0)


def test_snapshot_lookup_by_exact_id() -> None:
    duplicate = Country(country_id="uk", name="Duplicate")
    snapshot = CatalogSnapshot((UK, US, duplicate), etag="v1")

    assert snapshot.get("uk") is UK
    assert snapshot.get("us") is US
    assert snapshot.get("UK") is None
    assert snapshot.get("United Kingdom") is None
    assert repr(snapshot) == "CatalogSnapshot(3 items, etag='v1')"


def test_snapshots_compare_by_identity() -> None:
    first = CatalogSnapshot((UK,), etag="v1")
    second = CatalogSnapshot((UK,), etag="v1")

    assert first != second
    assert len({first, second}) == 2


async def test_platfone_etag_round_trip(clock: FakeClock) -> None:
    countries_json = [{"country_id": "uk", "name": "United Kingdom", "alt_name": "", "codes": ["44"]}]

    with respx.mock(base_url=BASE_URL) as api:
        route = api.get("/activation/countries").mock(
            side_effect=[
                httpx.Response(200, json=countries_json, headers={"X-ETag": "abc"}),
                httpx.Response(304),
            ]
        )
        async with PlatfoneProvider(CANARY_KEY, BASE_URL, retry_policy=RetryPolicy(sleep=no_sleep)) as provider:
            catalog = Catalog(provider, ttl_seconds=60.0, clock=clock)
            first = await catalog.countries()
            clock.now += 61.0
            second = await catalog.countries()

    assert second is first
    assert first.get("uk") == UK
    assert "If-None-Match" not in route.calls[0].request.headers
    assert route.calls[1].request.headers["If-None-Match"] == "abc"
    assert catalog.fetch_count == 2
