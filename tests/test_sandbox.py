"""The sandbox app: catalog, prices, ordering, the SMS lifecycle, balance, control routes and serving."""

from __future__ import annotations

import json
import logging
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from sms_activation_mcp.sandbox import SandboxConfig, create_app
from sms_activation_mcp.sandbox.catalog import load_catalog
from sms_activation_mcp.sandbox.pricing import quote_pair
from sms_activation_mcp.sandbox.state import MAX_ACTIVE_ACTIVATIONS

pytestmark = pytest.mark.anyio

START = 1_700_000_000.0
KEY = "test-key"
CANARY_KEY = "canary-7f3e9b21d4"


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make_client(config: SandboxConfig, clock: FakeClock, api_key: str | None = KEY) -> httpx.AsyncClient:
    headers = {"X-Api-Key": api_key} if api_key is not None else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(config, clock=clock)),
        base_url="http://sandbox/api/v1",
        headers=headers,
    )


@pytest.fixture
async def api(clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(SandboxConfig(), clock) as client:
        yield client


async def order(client: httpx.AsyncClient, country_id: str = "us", service_id: str = "tg", **extra: Any) -> Any:
    response = await client.post("/activation", json={"country_id": country_id, "service_id": service_id, **extra})
    assert response.status_code == 200, response.text
    return response.json()


async def activation(client: httpx.AsyncClient, activation_id: str) -> Any:
    response = await client.get(f"/activation/{activation_id}")
    assert response.status_code == 200, response.text
    return response.json()


async def balance(client: httpx.AsyncClient) -> Any:
    response = await client.get("/user/balance")
    assert response.status_code == 200, response.text
    return response.json()


def assert_error(response: httpx.Response, status: int, error_name: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["errorName"] == error_name
    assert body["errorMessage"]
    return body


# Catalog


async def test_catalog_sizes(api: httpx.AsyncClient) -> None:
    countries = (await api.get("/activation/countries")).json()
    services = (await api.get("/activation/services")).json()

    assert len(countries) == 252
    assert sum(country["country_id"].endswith("_v") for country in countries) == 10
    assert len(services) == 124
    assert "other" in {service["service_id"] for service in services}
    assert [service["service_id"] for service in services if service["prohibited"]] == ["gv"]
    assert set(countries[0]) == {"country_id", "name", "alt_name", "codes"}
    assert set(services[0]) == {"service_id", "name", "alt_name", "has_description", "has_warning", "prohibited"}


@pytest.mark.parametrize("path", ["/activation/countries", "/activation/services"])
async def test_catalog_etag_304(api: httpx.AsyncClient, path: str) -> None:
    first = await api.get(path)
    etag = first.headers["X-ETag"]

    unchanged = await api.get(path, headers={"If-None-Match": etag})
    stale = await api.get(path, headers={"If-None-Match": '"something-else"'})

    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged.headers["X-ETag"] == etag
    assert stale.status_code == 200
    assert stale.json() == first.json()


async def test_catalog_etags_differ_per_list(api: httpx.AsyncClient) -> None:
    countries = await api.get("/activation/countries")
    services = await api.get("/activation/services")

    assert countries.headers["X-ETag"] != services.headers["X-ETag"]


def test_catalog_ships_as_package_data() -> None:
    # The wheel includes every file under the package, and the loader reads through importlib.resources.
    catalog = load_catalog()

    assert "us" in catalog.countries.by_id
    assert "tg" in catalog.services.by_id


# Prices


async def test_price_shape(api: httpx.AsyncClient) -> None:
    response = await api.get("/activation/prices/services/tg/countries/us")

    body = response.json()
    assert set(body) == {"price", "quality", "count"}
    assert set(body["price"]) == {"min", "max", "suggested"}
    assert all(isinstance(value, int) for value in body["price"].values())
    assert 5 <= body["price"]["min"] <= body["price"]["suggested"] <= body["price"]["max"]
    assert 0 <= body["quality"]["avg"] <= 100
    assert isinstance(body["count"], int)
    assert body["count"] > 0


@pytest.mark.parametrize(
    ("path", "error_name"),
    [
        ("/activation/prices/services/tg/countries/atlantis", "InvalidCountryException"),
        ("/activation/prices/services/nosuch/countries/us", "InvalidServiceException"),
    ],
)
async def test_price_unknown_ids(api: httpx.AsyncClient, path: str, error_name: str) -> None:
    assert_error(await api.get(path), 400, error_name)


async def test_prices_follow_seed(clock: FakeClock) -> None:
    pairs = [("us", "tg"), ("gb", "wa"), ("de", "go"), ("in", "other"), ("br", "fb")]

    async def prices(seed: int) -> list[Any]:
        async with make_client(SandboxConfig(seed=seed), clock) as client:
            return [(await client.get(f"/activation/prices/services/{s}/countries/{c}")).json() for c, s in pairs]

    assert await prices(0) == await prices(0)
    assert await prices(0) != await prices(1)


def test_prices_realistic_range() -> None:
    catalog = load_catalog()
    quotes = [
        quote_pair(0, country, service) for country in catalog.countries.by_id for service in catalog.services.by_id
    ]

    assert min(quote.min for quote in quotes) >= 5
    assert sorted(quote.suggested for quote in quotes)[len(quotes) // 2] < 150
    assert any(quote.max > 300 for quote in quotes)
    assert any(quote.stock == 0 for quote in quotes)


def test_virtual_countries_cheaper() -> None:
    catalog = load_catalog()
    services = list(catalog.services.by_id)

    for country in (country for country in catalog.countries.by_id if country.endswith("_v")):
        real = sum(quote_pair(0, country.removesuffix("_v"), service).suggested for service in services)
        virtual = sum(quote_pair(0, country, service).suggested for service in services)
        assert virtual < real, country


# Ordering


async def test_order_shape_and_reservation(api: httpx.AsyncClient) -> None:
    price = (await api.get("/activation/prices/services/tg/countries/gb")).json()["price"]

    created = await order(api, "gb", "tg")

    assert created["price"] == price["suggested"]
    assert created["sms_status"] == "smsRequested"
    assert created["activation_status"] == "active"
    assert created["billing_status"] == "reserved"
    assert created["report_status"] is None
    assert created["sms_code"] is None
    assert created["is_retriable"] is False
    assert created["created_at"] == int(START)
    assert created["expire_at"] == int(START) + 1200
    assert created["cancelable_after"] == int(START) + 30
    assert isinstance(created["activation_id"], str)
    assert await balance(api) == {"total": 1000, "reserved": created["price"]}


@pytest.mark.parametrize(("country_id", "prefix"), [("gb", "447"), ("us", "1"), ("de", "491"), ("jm", "1876")])
async def test_order_phone_realistic(api: httpx.AsyncClient, country_id: str, prefix: str) -> None:
    phone = (await order(api, country_id, "other"))["phone"]

    assert phone.isdigit()
    assert phone.startswith(prefix)
    assert 10 <= len(phone) <= 15


async def test_order_quality_factor_picks_price(api: httpx.AsyncClient) -> None:
    price = (await api.get("/activation/prices/services/wa/countries/fr")).json()["price"]

    cheapest = await order(api, "fr", "wa", quality_factor=0)
    dearest = await order(api, "fr", "wa", quality_factor=100)

    assert cheapest["price"] == price["min"]
    assert dearest["price"] == price["max"]


async def test_order_reduces_stock(api: httpx.AsyncClient) -> None:
    path = "/activation/prices/services/tg/countries/nl"
    before = (await api.get(path)).json()["count"]

    await order(api, "nl", "tg")

    assert (await api.get(path)).json()["count"] == before - 1


async def test_order_ids_unique(api: httpx.AsyncClient) -> None:
    first = await order(api, "us", "other")
    second = await order(api, "us", "other")

    assert first["activation_id"] != second["activation_id"]


async def test_same_seed_same_phone_and_code(clock: FakeClock) -> None:
    results = []
    for _ in range(2):
        async with make_client(SandboxConfig(seed=7), clock) as client:
            created = await order(client, "de", "wa")
            clock.advance(8)
            results.append(await activation(client, created["activation_id"]))

    assert results[0]["phone"] == results[1]["phone"]
    assert results[0]["sms_code"] == results[1]["sms_code"]


async def test_order_not_enough_funds(clock: FakeClock) -> None:
    async with make_client(SandboxConfig(balance_cents=4), clock) as client:
        response = await client.post("/activation", json={"country_id": "us", "service_id": "tg"})

        assert_error(response, 402, "NotEnoughFundsException")
        assert await balance(client) == {"total": 4, "reserved": 0}


async def test_order_max_price_409_then_order_id(api: httpx.AsyncClient) -> None:
    price = (await api.get("/activation/prices/services/tg/countries/us")).json()["price"]["suggested"]

    refused = await api.post("/activation", json={"country_id": "us", "service_id": "tg", "max_price": price - 1})
    body = assert_error(refused, 409, "MaxPriceExceededException")
    accepted = await order(api, "us", "tg", max_price=body["suggestedPrice"], order_id=body["orderId"])

    assert body["suggestedPrice"] == price
    assert isinstance(body["orderId"], str)
    assert accepted["price"] == price
    assert await balance(api) == {"total": 1000, "reserved": price}


async def test_order_id_keeps_quoted_price(api: httpx.AsyncClient) -> None:
    price = (await api.get("/activation/prices/services/tg/countries/us")).json()["price"]

    refused = await api.post(
        "/activation", json={"country_id": "us", "service_id": "tg", "max_price": 0, "quality_factor": 100}
    )
    body = assert_error(refused, 409, "MaxPriceExceededException")
    accepted = await order(
        api, "us", "tg", max_price=body["suggestedPrice"], order_id=body["orderId"], quality_factor=0
    )

    assert body["suggestedPrice"] == price["max"]
    assert accepted["price"] == price["max"]


async def test_order_prohibited_service(api: httpx.AsyncClient) -> None:
    response = await api.post("/activation", json={"country_id": "us", "service_id": "gv"})

    assert_error(response, 400, "ServiceProhibitedException")


async def test_order_no_numbers(api: httpx.AsyncClient) -> None:
    catalog = load_catalog()
    empty = next(
        (country, service)
        for country in catalog.countries.by_id
        for service in catalog.services.by_id
        if quote_pair(0, country, service).stock == 0
    )

    response = await api.post("/activation", json={"country_id": empty[0], "service_id": empty[1]})

    assert_error(response, 400, "NoNumbersAvailableException")


@pytest.mark.parametrize(
    ("country_id", "service_id", "error_name"),
    [("atlantis", "tg", "InvalidCountryException"), ("us", "nosuch", "InvalidServiceException")],
)
async def test_order_unknown_ids(api: httpx.AsyncClient, country_id: str, service_id: str, error_name: str) -> None:
    response = await api.post("/activation", json={"country_id": country_id, "service_id": service_id})

    assert_error(response, 400, error_name)


async def test_order_too_many_activations(clock: FakeClock) -> None:
    async with make_client(SandboxConfig(balance_cents=100_000), clock) as client:
        for _ in range(MAX_ACTIVE_ACTIVATIONS):
            await order(client, "us", "other")

        response = await client.post("/activation", json={"country_id": "us", "service_id": "other"})

        assert_error(response, 400, "TooManyActivationsException")


@pytest.mark.parametrize(
    "content",
    [
        b'{"country_id": "us"}',
        b'{"country_id": "us", "service_id": "tg", "quality_factor": 101}',
        b'{"country_id": "us", "service_id": "tg", "max_price": -1}',
        b"not json",
    ],
)
async def test_order_invalid_body(api: httpx.AsyncClient, content: bytes) -> None:
    response = await api.post("/activation", content=content)

    assert_error(response, 400, "InvalidRequestException")
    assert await balance(api) == {"total": 1000, "reserved": 0}


# Lifecycle


async def test_sms_arrives_then_retry(clock: FakeClock) -> None:
    async with make_client(SandboxConfig(), clock) as api:
        created = await order(api, "us", "wa")
        activation_id = created["activation_id"]

        clock.advance(7.9)
        waiting = await activation(api, activation_id)
        clock.advance(0.1)
        received = await activation(api, activation_id)
        after_sms = await balance(api)

        assert waiting["sms_status"] == "smsRequested"
        assert received["sms_status"] == "smsReceived"
        assert received["billing_status"] == "billed"
        assert received["is_retriable"] is True
        assert received["cancelable_after"] is None
        assert received["updated_at"] == int(START) + 8
        assert re.fullmatch(r"\d{4,8}", received["sms_code"])
        assert received["sms_code"] in re.sub(r"(\d{3})[- ](\d{3})", r"\1\2", received["sms_text"])
        assert after_sms == {"total": 1000 - created["price"], "reserved": 0}

        retry = await api.put(f"/activation/{activation_id}/retry")
        retrying = await activation(api, activation_id)
        second_retry = await api.put(f"/activation/{activation_id}/retry")
        clock.advance(8)
        second = await activation(api, activation_id)

        assert retry.json() == {"result": "success"}
        assert retrying["sms_status"] == "retryRequested"
        assert retrying["is_retriable"] is False
        assert_error(second_retry, 400, "RetryNotAllowedException")
        assert second["sms_status"] == "retryReceived"
        assert second["is_retriable"] is True
        assert second["sms_code"] != received["sms_code"]
        assert await balance(api) == after_sms


@pytest.mark.parametrize(
    ("action", "wait", "error_name", "reason"),
    [
        ("retry", 0, "RetryNotAllowedException", "no SMS has arrived"),
        ("cancel", 40, "CancelNotAllowedException", "billed"),
    ],
)
async def test_action_not_allowed(clock: FakeClock, action: str, wait: float, error_name: str, reason: str) -> None:
    async with make_client(SandboxConfig(), clock) as api:
        created = await order(api)
        clock.advance(wait)

        response = await api.put(f"/activation/{created['activation_id']}/{action}")

    body = assert_error(response, 400, error_name)
    assert reason in body["errorMessage"]


async def test_cancel_too_early_then_refunded(clock: FakeClock) -> None:
    async with make_client(SandboxConfig(sms_delay_seconds=600), clock) as api:
        created = await order(api)
        activation_id = created["activation_id"]

        clock.advance(29)
        early = await api.put(f"/activation/{activation_id}/cancel")
        clock.advance(1)
        canceled = await api.put(f"/activation/{activation_id}/cancel")
        after = await activation(api, activation_id)
        again = await api.put(f"/activation/{activation_id}/cancel")

        body = assert_error(early, 400, "CancelNotAllowedException")
        assert str(int(START) + 30) in body["errorMessage"]
        assert canceled.json() == {"result": "success"}
        assert after["activation_status"] == "canceled"
        assert after["billing_status"] == "refunded"
        assert after["cancelable_after"] is None
        assert_error(again, 400, "CancelNotAllowedException")
        assert await balance(api) == {"total": 1000, "reserved": 0}


async def test_canceled_gets_no_sms(clock: FakeClock) -> None:
    async with make_client(SandboxConfig(sms_delay_seconds=60), clock) as api:
        created = await order(api)
        clock.advance(30)
        await api.put(f"/activation/{created['activation_id']}/cancel")
        clock.advance(60)

        after = await activation(api, created["activation_id"])

        assert after["sms_status"] == "smsRequested"
        assert after["sms_code"] is None


async def test_expiry_without_sms_refunds(clock: FakeClock) -> None:
    async with make_client(SandboxConfig(sms_delay_seconds=5000), clock) as api:
        created = await order(api)
        clock.advance(1200)

        expired = await activation(api, created["activation_id"])

        assert expired["activation_status"] == "expired"
        assert expired["billing_status"] == "refunded"
        assert expired["updated_at"] == int(START) + 1200
        assert await balance(api) == {"total": 1000, "reserved": 0}


async def test_expiry_with_sms_finalizes(clock: FakeClock) -> None:
    async with make_client(SandboxConfig(), clock) as api:
        created = await order(api)
        # The first read comes after expiry: the SMS that was due before it must still arrive and be billed.
        clock.advance(5000)

        finalized = await activation(api, created["activation_id"])
        retry = await api.put(f"/activation/{created['activation_id']}/retry")

        assert finalized["activation_status"] == "finalized"
        assert finalized["billing_status"] == "billed"
        assert finalized["sms_status"] == "smsReceived"
        assert finalized["is_retriable"] is False
        assert_error(retry, 400, "RetryNotAllowedException")
        assert await balance(api) == {"total": 1000 - created["price"], "reserved": 0}


@pytest.mark.parametrize("method", ["GET", "PUT retry", "PUT cancel"])
async def test_unknown_activation_404(api: httpx.AsyncClient, method: str) -> None:
    verb, _, action = method.partition(" ")
    path = "/activation/424242" + (f"/{action}" if action else "")

    response = await api.request(verb, path)

    assert_error(response, 404, "ActivationNotFoundException")


# Authentication and headers


@pytest.mark.parametrize(("api_key", "status"), [(None, 401), ("wrong", 401), ("", 401), (CANARY_KEY, 200)])
async def test_required_key(clock: FakeClock, api_key: str | None, status: int) -> None:
    config = SandboxConfig(required_api_key=CANARY_KEY)
    async with make_client(config, clock, api_key=api_key) as client:
        api_response = await client.get("/user/balance")
        control_response = await client.get("http://sandbox/sandbox/stats")

        assert api_response.status_code == status
        assert control_response.status_code == status
        if status == 401:
            assert api_response.json()["errorName"] == "UnauthorizedException"
            assert CANARY_KEY not in api_response.text


@pytest.mark.parametrize(("api_key", "status"), [(None, 401), ("   ", 401), ("anything", 200)])
async def test_any_key_by_default(clock: FakeClock, api_key: str | None, status: int) -> None:
    async with make_client(SandboxConfig(), clock, api_key=api_key) as client:
        assert (await client.get("/user/balance")).status_code == status


def test_config_repr_hides_key() -> None:
    assert CANARY_KEY not in repr(SandboxConfig(required_api_key=CANARY_KEY))


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/user/balance"),
        ("GET", "/activation/424242"),
        ("GET", "/no/such/route"),
        ("DELETE", "/user/balance"),
        ("GET", "http://sandbox/sandbox/stats"),
    ],
)
async def test_sandbox_header_everywhere(api: httpx.AsyncClient, method: str, path: str) -> None:
    response = await api.request(method, path)

    assert response.headers["X-Sandbox"] == "true"


async def test_sandbox_header_on_401_and_304(clock: FakeClock) -> None:
    async with make_client(SandboxConfig(), clock, api_key=None) as client:
        unauthorized = await client.get("/user/balance")
    async with make_client(SandboxConfig(), clock) as client:
        etag = (await client.get("/activation/services")).headers["X-ETag"]
        unchanged = await client.get("/activation/services", headers={"If-None-Match": etag})

    assert unauthorized.headers["X-Sandbox"] == "true"
    assert unchanged.headers["X-Sandbox"] == "true"


# Control routes


async def test_control_sms_injection(api: httpx.AsyncClient) -> None:
    first = await order(api, "us", "tg")
    second = await order(api, "us", "wa")

    given_text = await api.post(
        f"http://sandbox/sandbox/activations/{first['activation_id']}/sms", json={"text": "Code 482-913 for you"}
    )
    given_code = await api.post(
        f"http://sandbox/sandbox/activations/{second['activation_id']}/sms", json={"code": "5555"}
    )

    assert given_text.json()["sms_text"] == "Code 482-913 for you"
    assert given_text.json()["sms_code"] == "482913"
    assert given_text.json()["billing_status"] == "billed"
    assert given_code.json()["sms_code"] == "5555"
    assert "5555" in given_code.json()["sms_text"]
    assert await balance(api) == {"total": 1000 - first["price"] - second["price"], "reserved": 0}


async def test_control_sms_generated(api: httpx.AsyncClient) -> None:
    created = await order(api, "us", "go")

    response = await api.post(f"http://sandbox/sandbox/activations/{created['activation_id']}/sms", json={})

    assert response.json()["sms_status"] == "smsReceived"
    assert "Google" in response.json()["sms_text"]


async def test_control_sms_rejected(clock: FakeClock) -> None:
    async with make_client(SandboxConfig(sms_delay_seconds=5000), clock) as api:
        created = await order(api)
        clock.advance(1200)

        expired = await api.post(f"http://sandbox/sandbox/activations/{created['activation_id']}/sms", json={})
        unknown = await api.post("http://sandbox/sandbox/activations/424242/sms", json={})
        invalid = await api.post(
            f"http://sandbox/sandbox/activations/{created['activation_id']}/sms", json={"colour": "red"}
        )

        assert_error(expired, 400, "ActivationNotActiveException")
        assert_error(unknown, 404, "ActivationNotFoundException")
        assert_error(invalid, 400, "InvalidRequestException")


async def test_control_clock_advance(api: httpx.AsyncClient) -> None:
    created = await order(api)

    advanced = await api.post("http://sandbox/sandbox/clock/advance", json={"seconds": 8})
    backwards = await api.post("http://sandbox/sandbox/clock/advance", json={"seconds": -1})

    assert advanced.json() == {"now": int(START) + 8}
    assert (await activation(api, created["activation_id"]))["sms_status"] == "smsReceived"
    assert_error(backwards, 400, "InvalidRequestException")


async def test_control_stats(api: httpx.AsyncClient) -> None:
    created = await order(api)
    await activation(api, created["activation_id"])
    await activation(api, created["activation_id"])
    await api.get("/activation/countries")
    await api.put("/activation/424242/cancel")

    stats = (await api.get("http://sandbox/sandbox/stats")).json()

    assert stats["order"] == 1
    assert stats["get_activation"] == 2
    assert stats["countries"] == 1
    assert stats["cancel"] == 1
    assert stats["retry"] == 0
    assert stats["total"] == 5


async def test_control_balance_and_reset(api: httpx.AsyncClient) -> None:
    await order(api)

    updated = await api.put("http://sandbox/sandbox/balance", json={"total": 5000})
    reset = await api.post("http://sandbox/sandbox/reset")
    stats = (await api.get("http://sandbox/sandbox/stats")).json()

    assert updated.json()["total"] == 5000
    assert updated.json()["reserved"] > 0
    assert reset.json() == {"result": "success"}
    assert await balance(api) == {"total": 1000, "reserved": 0}
    assert stats["total"] == 0


async def test_reset_keeps_ids_fresh(api: httpx.AsyncClient) -> None:
    before = await order(api)
    await api.post("http://sandbox/sandbox/reset")

    after = await order(api)

    assert after["activation_id"] != before["activation_id"]
    assert (await api.get(f"/activation/{before['activation_id']}")).status_code == 404


async def test_apps_do_not_share_state(clock: FakeClock) -> None:
    async with make_client(SandboxConfig(), clock) as first, make_client(SandboxConfig(), clock) as second:
        created = await order(first)

        assert (await second.get(f"/activation/{created['activation_id']}")).status_code == 404
        assert await balance(second) == {"total": 1000, "reserved": 0}


# Logging


async def test_log_lines(clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="sms_activation_mcp.sandbox")
    config = SandboxConfig(required_api_key=CANARY_KEY, sms_delay_seconds=8, cancel_after_seconds=0)

    async with make_client(config, clock, api_key=CANARY_KEY) as api:
        sms_one = await order(api, "us", "tg")
        canceled = await order(api, "us", "wa")
        await api.put(f"/activation/{canceled['activation_id']}/cancel")
        clock.advance(8)
        sms_text = (await activation(api, sms_one["activation_id"]))["sms_text"]
        await api.put(f"/activation/{sms_one['activation_id']}/retry")
        clock.advance(2000)
        await balance(api)

    messages = [record.getMessage() for record in caplog.records]
    assert f"ordered activation {sms_one['activation_id']} us/tg at {sms_one['price']}c" in messages
    assert any(message.startswith(f"SMS arrived on activation {sms_one['activation_id']}") for message in messages)
    assert f"retry requested on activation {sms_one['activation_id']}" in messages
    assert any(message.startswith(f"canceled activation {canceled['activation_id']}") for message in messages)
    assert any("finalized" in message for message in messages)
    assert all(CANARY_KEY not in message for message in messages)
    assert all(sms_text not in message for message in messages)


# Serving over a real socket


@pytest.fixture
def served_url() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = (
        "from sms_activation_mcp.sandbox import SandboxConfig, serve; "
        f"serve(SandboxConfig(required_api_key={KEY!r}), host='127.0.0.1', port={port})"
    )
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_listening(process, port)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _wait_until_listening(process: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            stderr = process.stderr.read().decode() if process.stderr else ""
            pytest.fail(f"the sandbox exited early: {stderr}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    pytest.fail("the sandbox did not start listening")


async def test_serve_real_socket(served_url: str) -> None:
    async with httpx.AsyncClient(base_url=served_url, headers={"X-Api-Key": KEY}) as client:
        response = await client.get("/api/v1/user/balance")
        fault = await client.put("/sandbox/faults", json={"route": "balance", "drop_connection": True, "times": 1})

        # Over a socket a dropped connection is a protocol error, not a status code.
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get("/api/v1/user/balance")
        after = await client.get("/api/v1/user/balance")

    assert response.status_code == 200
    assert response.headers["X-Sandbox"] == "true"
    assert json.loads(response.content) == {"total": 1000, "reserved": 0}
    assert fault.status_code == 200
    assert after.status_code == 200
