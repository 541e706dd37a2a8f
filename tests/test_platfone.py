"""PlatfoneProvider against respx mocks: wire-to-model translation, error mapping, key hygiene."""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
import respx

from sms_activation_mcp import __version__
from sms_activation_mcp.models import (
    Activation,
    ActivationStatus,
    Balance,
    BillingStatus,
    Country,
    Money,
    Price,
    Service,
    SmsStatus,
)
from sms_activation_mcp.providers.errors import (
    AccountOnHoldError,
    ActionNotAllowedError,
    ActivationNotFoundError,
    AuthenticationError,
    InsufficientBalanceError,
    InvalidRequestError,
    InvalidResponseError,
    MaxPriceExceededError,
    NoNumbersAvailableError,
    ProviderError,
    RateLimitedError,
    TooManyActivationsError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from sms_activation_mcp.providers.platfone import PlatfoneProvider
from sms_activation_mcp.providers.retry import RetryPolicy
from sms_activation_mcp.sandbox import SandboxConfig, create_app

pytestmark = pytest.mark.anyio

BASE_URL = "https://platfone.test/api/v1"
CANARY_KEY = "canary-key-5b1e0d7a"


async def no_sleep(seconds: float) -> None:
    return None


def activation_json(**overrides: Any) -> dict[str, Any]:
    """Build an Activation as Platfone sends it. Keyword arguments replace fields."""
    activation: dict[str, Any] = {
        "activation_id": "act-1",
        "phone": "447700900123",
        "country_id": "uk",
        "service_id": "tg",
        "price": 35,
        "sms_status": "smsReceived",
        "activation_status": "active",
        "billing_status": "billed",
        "report_status": None,
        "sms_code": "123456",
        "sms_text": "Telegram code: 123456",
        "expire_at": 1_700_001_200,
        "created_at": 1_700_000_000,
        "updated_at": 1_700_000_060,
        "is_retriable": True,
        "cancelable_after": 1_700_000_120,
    }
    activation.update(overrides)
    return activation


def error_json(name: str | None, message: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = dict(extra)
    if name is not None:
        body["errorName"] = name
    if message is not None:
        body["errorMessage"] = message
    return body


def make_provider(**options: Any) -> PlatfoneProvider:
    options.setdefault("retry_policy", RetryPolicy(sleep=no_sleep))
    return PlatfoneProvider(CANARY_KEY, BASE_URL, **options)


def assert_no_key(error: BaseException) -> None:
    rendered = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    assert CANARY_KEY not in str(error)
    assert CANARY_KEY not in repr(error)
    assert CANARY_KEY not in rendered


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


@pytest.fixture
async def provider(api: respx.MockRouter) -> AsyncIterator[PlatfoneProvider]:
    async with make_provider() as client:
        yield client


# Translation of successful responses


async def test_balance_translated(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    api.get("/user/balance").respond(200, json={"total": 1000, "reserved": 35})

    balance = await provider.get_balance()

    assert balance == Balance(total=Money(amount=1000), reserved=Money(amount=35))
    assert balance.available.amount == 965


async def test_requests_carry_key_and_user_agent(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    route = api.get("/user/balance").respond(200, json={"total": 0, "reserved": 0})

    await provider.get_balance()

    request = route.calls.last.request
    assert request.headers["X-Api-Key"] == CANARY_KEY
    assert request.headers["User-Agent"] == f"sms-activation-mcp/{__version__}"


async def test_timeouts_from_constructor(api: respx.MockRouter) -> None:
    route = api.get("/user/balance").respond(200, json={"total": 0, "reserved": 0})

    async with make_provider(timeout=15.0) as default_provider:
        await default_provider.get_balance()
    async with make_provider(timeout=3.0) as short_provider:
        await short_provider.get_balance()

    first, second = (call.request.extensions["timeout"] for call in route.calls)
    assert first["read"] == 15.0
    assert first["connect"] == 5.0
    assert second["read"] == 3.0
    assert second["connect"] == 3.0


async def test_countries_translated(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    api.get("/activation/countries").respond(
        200,
        json=[
            {"country_id": "uk", "name": "United Kingdom", "alt_name": "Great Britain", "codes": ["44"]},
            {"country_id": "us_v", "name": "United States (virtual)", "alt_name": None, "codes": [1]},
        ],
        headers={"X-ETag": "countries-v1"},
    )

    fetch = await provider.list_countries()

    assert fetch.etag == "countries-v1"
    assert fetch.items == [
        Country(country_id="uk", name="United Kingdom", alt_name="Great Britain", dialing_codes=("44",)),
        Country(country_id="us_v", name="United States (virtual)", dialing_codes=("1",), virtual_only=True),
    ]


async def test_services_translated(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    api.get("/activation/services").respond(
        200,
        json=[
            {
                "service_id": "go",
                "name": "Google",
                "alt_name": "Gmail",
                "has_description": True,
                "has_warning": True,
                "prohibited": False,
            },
            {"service_id": "xx", "name": "Banned", "alt_name": "", "prohibited": True},
        ],
        headers={"X-ETag": "services-v7"},
    )

    fetch = await provider.list_services()

    assert fetch.etag == "services-v7"
    assert fetch.items == [
        Service(service_id="go", name="Google", alt_name="Gmail", has_warning=True),
        Service(service_id="xx", name="Banned", prohibited=True),
    ]


async def test_catalog_etag_sent_and_304(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    route = api.get("/activation/services").respond(304)

    fetch = await provider.list_services(etag="services-v7")

    assert route.calls.last.request.headers["If-None-Match"] == "services-v7"
    assert fetch.items is None
    assert fetch.etag == "services-v7"


async def test_304_without_etag_is_invalid(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    route = api.get("/activation/countries").respond(304)

    with pytest.raises(InvalidResponseError):
        await provider.list_countries()

    assert "If-None-Match" not in route.calls.last.request.headers


async def test_price_translated(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    api.get("/activation/prices/services/tg/countries/uk").respond(
        200, json={"price": {"min": 20, "max": 60, "suggested": 35}, "quality": {"avg": 87.5}, "count": 120}
    )

    price = await provider.get_price("uk", "tg")

    assert price == Price(
        country_id="uk",
        service_id="tg",
        min=Money(amount=20),
        max=Money(amount=60),
        suggested=Money(amount=35),
        available=120,
        quality=87.5,
    )


async def test_order_sends_body_and_translates(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    route = api.post("/activation").respond(200, json=activation_json())

    activation = await provider.order("uk", "tg", max_price=40, quality_factor=80, order_id="ord-9")

    assert route.call_count == 1
    sent = route.calls.last.request
    assert sent.headers["Content-Type"] == "application/json"
    assert httpx.Response(200, content=sent.content).json() == {
        "service_id": "tg",
        "country_id": "uk",
        "max_price": 40,
        "quality_factor": 80,
        "order_id": "ord-9",
    }
    assert activation == Activation(
        activation_id="act-1",
        phone="+447700900123",
        country_id="uk",
        service_id="tg",
        price=Money(amount=35, currency="USD"),
        sms_status=SmsStatus.RECEIVED,
        status=ActivationStatus.ACTIVE,
        billing_status=BillingStatus.BILLED,
        sms_code="123456",
        sms_text="Telegram code: 123456",
        expires_at=datetime(2023, 11, 14, 22, 33, 20, tzinfo=timezone.utc),
        created_at=datetime(2023, 11, 14, 22, 13, 20, tzinfo=timezone.utc),
        updated_at=datetime(2023, 11, 14, 22, 14, 20, tzinfo=timezone.utc),
        is_retriable=True,
        cancelable_after=datetime(2023, 11, 14, 22, 15, 20, tzinfo=timezone.utc),
    )
    assert activation.created_at.utcoffset() is not None


async def test_order_omits_unset_options(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    route = api.post("/activation").respond(200, json=activation_json())

    await provider.order("uk", "tg")

    body = httpx.Response(200, content=route.calls.last.request.content).json()
    assert body == {"service_id": "tg", "country_id": "uk"}


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("smsRequested", SmsStatus.REQUESTED),
        ("smsReceived", SmsStatus.RECEIVED),
        ("retryRequested", SmsStatus.RETRY_REQUESTED),
        ("retryReceived", SmsStatus.RETRY_RECEIVED),
    ],
)
async def test_sms_status_mapped(
    api: respx.MockRouter, provider: PlatfoneProvider, wire: str, expected: SmsStatus
) -> None:
    api.get("/activation/act-1").respond(200, json=activation_json(sms_status=wire))

    activation = await provider.get_activation("act-1")

    assert activation.sms_status is expected


@pytest.mark.parametrize(
    ("activation_status", "billing_status", "expected_status", "expected_billing"),
    [
        ("active", "reserved", ActivationStatus.ACTIVE, BillingStatus.RESERVED),
        ("finalized", "billed", ActivationStatus.FINALIZED, BillingStatus.BILLED),
        ("expired", "refunded", ActivationStatus.EXPIRED, BillingStatus.REFUNDED),
        ("canceled", "released", ActivationStatus.CANCELED, BillingStatus.RELEASED),
    ],
)
async def test_activation_statuses_mapped(
    api: respx.MockRouter,
    provider: PlatfoneProvider,
    activation_status: str,
    billing_status: str,
    expected_status: ActivationStatus,
    expected_billing: BillingStatus,
) -> None:
    api.get("/activation/act-1").respond(
        200, json=activation_json(activation_status=activation_status, billing_status=billing_status)
    )

    activation = await provider.get_activation("act-1")

    assert activation.status is expected_status
    assert activation.billing_status is expected_billing


async def test_activation_without_sms(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    api.get("/activation/act-1").respond(
        200,
        json=activation_json(
            sms_status="smsRequested", sms_code=None, sms_text=None, cancelable_after=None, is_retriable=False
        ),
    )

    activation = await provider.get_activation("act-1")

    assert activation.sms_code is None
    assert activation.sms_text is None
    assert activation.cancelable_after is None
    assert activation.has_sms is False


async def test_numeric_activation_id_accepted(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    api.get("/activation/123").respond(200, json=activation_json(activation_id=123, phone="+15550001111"))

    activation = await provider.get_activation("123")

    assert activation.activation_id == "123"
    assert activation.phone == "+15550001111"


async def test_retry_and_cancel_succeed(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    retry_route = api.put("/activation/act-1/retry").respond(200, json={"result": "success"})
    cancel_route = api.put("/activation/act-1/cancel").respond(200, json={"result": "success"})

    await provider.retry("act-1")
    await provider.cancel("act-1")

    assert retry_route.call_count == 1
    assert cancel_route.call_count == 1


async def test_ids_are_one_path_segment(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    paths: list[str] = []

    def record(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.raw_path.decode())
        return httpx.Response(200, json=activation_json())

    api.route(method="GET").mock(side_effect=record)

    await provider.get_activation("a/../b?c#d")

    assert paths == ["/api/v1/activation/a%2F..%2Fb%3Fc%23d"]


@pytest.mark.parametrize("activation_id", ["", ".", ".."])
async def test_invalid_activation_id_rejected(
    api: respx.MockRouter, provider: PlatfoneProvider, activation_id: str
) -> None:
    route = api.route()

    with pytest.raises(InvalidRequestError):
        await provider.get_activation(activation_id)
    with pytest.raises(InvalidRequestError):
        await provider.cancel(activation_id)

    assert route.call_count == 0


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"quality_factor": 101}, "quality_factor"),
        ({"quality_factor": -1}, "quality_factor"),
        ({"max_price": -5}, "max_price"),
    ],
)
async def test_order_options_checked(
    api: respx.MockRouter, provider: PlatfoneProvider, options: dict[str, Any], field: str
) -> None:
    route = api.post("/activation")

    with pytest.raises(InvalidRequestError, match=field):
        await provider.order("uk", "tg", **options)

    assert route.call_count == 0


# Error mapping

CALLS: dict[str, tuple[str, str, Callable[[PlatfoneProvider], Awaitable[object]]]] = {
    "balance": ("GET", "/user/balance", lambda p: p.get_balance()),
    "price": ("GET", "/activation/prices/services/tg/countries/uk", lambda p: p.get_price("uk", "tg")),
    "order": ("POST", "/activation", lambda p: p.order("uk", "tg")),
    "activation": ("GET", "/activation/act-1", lambda p: p.get_activation("act-1")),
    "retry": ("PUT", "/activation/act-1/retry", lambda p: p.retry("act-1")),
    "cancel": ("PUT", "/activation/act-1/cancel", lambda p: p.cancel("act-1")),
}

ERROR_CASES = [
    ("order", 401, None, AuthenticationError),
    ("balance", 401, "UnauthorizedException", AuthenticationError),
    ("order", 402, "NotEnoughFundsException", InsufficientBalanceError),
    ("order", 402, None, InsufficientBalanceError),
    ("order", 403, "AccountOnHoldException", AccountOnHoldError),
    ("order", 400, "NoNumbersAvailableException", NoNumbersAvailableError),
    ("order", 400, "TooManyActivationsException", TooManyActivationsError),
    ("order", 400, "ServiceProhibitedException", InvalidRequestError),
    ("order", 400, "InvalidCountryException", InvalidRequestError),
    ("order", 400, "InvalidServiceException", InvalidRequestError),
    ("order", 400, "SomethingNewException", InvalidRequestError),
    ("order", 422, None, InvalidRequestError),
    # A known errorName wins over the status it arrives with.
    ("order", 409, "NoNumbersAvailableException", NoNumbersAvailableError),
    ("order", 429, "TooManyRequestsException", RateLimitedError),
    ("order", 503, "ServiceUnavailableException", UpstreamUnavailableError),
    ("order", 500, None, UpstreamUnavailableError),
    ("price", 400, "InvalidCountryException", InvalidRequestError),
    ("price", 400, "InvalidServiceException", InvalidRequestError),
    ("price", 404, None, InvalidRequestError),
    ("activation", 404, "ActivationNotFoundException", ActivationNotFoundError),
    ("activation", 404, None, ActivationNotFoundError),
    ("retry", 400, "RetryNotAllowedException", ActionNotAllowedError),
    ("retry", 404, None, ActivationNotFoundError),
    ("cancel", 400, "CancelNotAllowedException", ActionNotAllowedError),
    ("cancel", 404, "ActivationNotFoundException", ActivationNotFoundError),
    ("balance", 302, None, InvalidResponseError),
]


@pytest.mark.parametrize(("call", "status", "error_name", "expected"), ERROR_CASES)
async def test_error_mapped(
    api: respx.MockRouter,
    provider: PlatfoneProvider,
    call: str,
    status: int,
    error_name: str | None,
    expected: type[ProviderError],
) -> None:
    method, path, invoke = CALLS[call]
    upstream_message = f"Request rejected for key {CANARY_KEY}"
    api.route(method=method, path=path).respond(status, json=error_json(error_name, upstream_message))

    with pytest.raises(ProviderError) as caught:
        await invoke(provider)

    error = caught.value
    assert type(error) is expected
    assert error.status_code == status
    assert error.error_name == error_name
    assert error.message.startswith(f"{method} {path} failed")
    assert "Request rejected for key [redacted]" in error.message
    assert_no_key(error)


async def test_error_message_shortened(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    api.post("/activation").respond(400, json=error_json("InvalidServiceException", "x" * 5000))

    with pytest.raises(InvalidRequestError) as caught:
        await provider.order("uk", "tg")

    assert len(caught.value.message) < 300
    assert caught.value.message.endswith("...")


async def test_max_price_exceeded_details(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    api.post("/activation").respond(
        409,
        json=error_json("MaxPriceExceededException", "Price is 45", suggestedPrice=45, orderId="ord-7"),
    )

    with pytest.raises(MaxPriceExceededError) as caught:
        await provider.order("uk", "tg", max_price=30)

    assert caught.value.suggested_price == Money(amount=45, currency="USD")
    assert caught.value.order_id == "ord-7"
    assert caught.value.status_code == 409
    assert "Price is 45" in caught.value.message


async def test_max_price_without_suggestion(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    api.post("/activation").respond(409, json=error_json("MaxPriceExceededException", "too cheap"))

    with pytest.raises(InvalidResponseError, match="suggestedPrice"):
        await provider.order("uk", "tg", max_price=30)


async def test_rate_limit_details(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    api.post("/activation").respond(
        429,
        json=error_json("TooManyRequestsException", "Account blocked", blockedUntil=1_700_086_400),
        headers={"Retry-After": "86400"},
    )

    with pytest.raises(RateLimitedError) as caught:
        await provider.order("uk", "tg")

    assert caught.value.retry_after == 86400.0
    assert caught.value.blocked_until == datetime(2023, 11, 15, 22, 13, 20, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("12", 12.0),
        ("1.5", 1.5),
        ("Thu, 01 Jan 2004 00:00:00 GMT", 0.0),
        ("soon", None),
        ("nan", None),
    ],
)
async def test_retry_after_parsed(
    api: respx.MockRouter, provider: PlatfoneProvider, header: str, expected: float | None
) -> None:
    api.post("/activation").respond(429, json=error_json("TooManyRequestsException"), headers={"Retry-After": header})

    with pytest.raises(RateLimitedError) as caught:
        await provider.order("uk", "tg")

    assert caught.value.retry_after == expected
    assert caught.value.blocked_until is None


async def test_retry_after_future_date(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    api.post("/activation").respond(
        429, json=error_json("TooManyRequestsException"), headers={"Retry-After": "Fri, 01 Jan 2100 00:00:00 GMT"}
    )

    with pytest.raises(RateLimitedError) as caught:
        await provider.order("uk", "tg")

    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 365 * 24 * 3600


async def test_html_error_page(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    api.post("/activation").respond(502, text="<html><body>\n  Bad gateway\n</body></html>")

    with pytest.raises(UpstreamUnavailableError) as caught:
        await provider.order("uk", "tg")

    assert caught.value.status_code == 502
    assert caught.value.error_name is None
    assert "<html><body> Bad gateway </body></html>" in caught.value.message


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"total": "lots"}',
        b"[]",
        b"",
    ],
)
async def test_invalid_body_rejected(api: respx.MockRouter, provider: PlatfoneProvider, body: bytes) -> None:
    api.get("/user/balance").respond(200, content=body)

    with pytest.raises(InvalidResponseError) as caught:
        await provider.get_balance()

    assert caught.value.message.startswith("GET /user/balance returned an invalid body")


async def test_unknown_status_string_rejected(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    api.get("/activation/act-1").respond(200, json=activation_json(activation_status="paused"))

    with pytest.raises(InvalidResponseError, match="activation_status"):
        await provider.get_activation("act-1")


async def test_out_of_range_time_rejected(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    api.get("/activation/act-1").respond(200, json=activation_json(expire_at=10**15))

    with pytest.raises(InvalidResponseError, match="expire_at"):
        await provider.get_activation("act-1")


async def test_connection_error_mapped(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    api.post("/activation").mock(side_effect=httpx.ConnectError(f"refused for {CANARY_KEY}"))

    with pytest.raises(UpstreamUnavailableError) as caught:
        await provider.order("uk", "tg")

    assert caught.value.status_code is None
    assert "POST /activation failed: could not reach the API (ConnectError" in caught.value.message
    assert_no_key(caught.value)


async def test_timeout_mapped(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    api.post("/activation").mock(side_effect=httpx.ReadTimeout("read timed out"))

    with pytest.raises(UpstreamTimeoutError) as caught:
        await provider.order("uk", "tg")

    assert caught.value.message == "POST /activation timed out: no response within 15 s (ReadTimeout)"
    assert_no_key(caught.value)


async def test_invalid_body_echoing_key(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    api.get("/user/balance").respond(200, json={"total": CANARY_KEY, "reserved": 0})

    with pytest.raises(InvalidResponseError) as caught:
        await provider.get_balance()

    assert_no_key(caught.value)


async def test_key_absent_from_logs(
    api: respx.MockRouter, provider: PlatfoneProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    api.get("/user/balance").respond(503, json=error_json("ServiceUnavailableException", f"down {CANARY_KEY}"))
    api.post("/activation").respond(200, json=activation_json())

    with pytest.raises(UpstreamUnavailableError):
        await provider.get_balance()
    await provider.order("uk", "tg")

    assert "retrying GET /user/balance" in caplog.text
    assert "ordered activation act-1" in caplog.text
    assert CANARY_KEY not in caplog.text


def test_key_absent_from_provider_repr() -> None:
    provider = PlatfoneProvider(CANARY_KEY, BASE_URL)

    assert CANARY_KEY not in repr(provider)
    assert CANARY_KEY not in str(provider)
    assert repr(provider) == f"PlatfoneProvider(base_url='{BASE_URL}', is_sandbox=False)"


@pytest.mark.parametrize("api_key", ["", "   ", "key with spaces", "clé-secrète"])
def test_malformed_key_rejected(api_key: str) -> None:
    with pytest.raises(ValueError) as caught:
        PlatfoneProvider(api_key, BASE_URL)

    if api_key.strip():
        assert api_key not in str(caught.value)


def test_key_whitespace_trimmed() -> None:
    provider = PlatfoneProvider(f"  {CANARY_KEY}\n", BASE_URL)

    assert CANARY_KEY not in repr(provider)


@pytest.mark.parametrize(
    "base_url",
    ["ftp://platfone.test/api/v1", "platfone.test/api/v1", "https://user:pass@platfone.test/api/v1", ""],
)
def test_bad_base_url_rejected(base_url: str) -> None:
    with pytest.raises(ValueError):
        PlatfoneProvider(CANARY_KEY, base_url)


def test_nonpositive_timeout_rejected() -> None:
    with pytest.raises(ValueError, match="timeout"):
        PlatfoneProvider(CANARY_KEY, BASE_URL, timeout=0)


# Sandbox detection and lifecycle


def test_sandbox_from_constructor_and_url() -> None:
    assert PlatfoneProvider(CANARY_KEY, BASE_URL, is_sandbox=True).is_sandbox is True
    assert PlatfoneProvider(CANARY_KEY, "https://temp-number-api.com/test/api/v1").is_sandbox is True
    assert PlatfoneProvider(CANARY_KEY, "https://temp-number-api.com/api/v1").is_sandbox is False


async def test_sandbox_from_response_header(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    api.get("/user/balance").respond(200, json={"total": 0, "reserved": 0})
    api.get("/activation/act-1").respond(
        404, json=error_json("ActivationNotFoundException"), headers={"X-Sandbox": "true"}
    )

    await provider.get_balance()
    assert provider.is_sandbox is False

    with pytest.raises(ActivationNotFoundError):
        await provider.get_activation("act-1")
    assert provider.is_sandbox is True


async def test_aclose_closes_transport() -> None:
    closed: list[bool] = []

    class RecordingTransport(httpx.MockTransport):
        async def aclose(self) -> None:
            closed.append(True)

    transport = RecordingTransport(lambda request: httpx.Response(200, json={"total": 5, "reserved": 0}))
    provider = PlatfoneProvider(CANARY_KEY, BASE_URL, transport=transport)

    balance = await provider.get_balance()
    await provider.aclose()

    assert balance.total.amount == 5
    assert closed == [True]


# Against the sandbox app, which speaks the same wire contract in-process


async def test_sandbox_order_and_cancel_flow() -> None:
    now = [1_800_000_000.0]
    config = SandboxConfig(sms_delay_seconds=600, cancel_after_seconds=30, required_api_key=CANARY_KEY)
    transport = httpx.ASGITransport(app=create_app(config, clock=lambda: now[0]))

    async with PlatfoneProvider(CANARY_KEY, "http://sandbox.test/api/v1", transport=transport) as provider:
        countries = await provider.list_countries()
        unchanged = await provider.list_countries(etag=countries.etag)
        price = await provider.get_price("us", "tg")
        activation = await provider.order("us", "tg", max_price=price.max.amount)
        with pytest.raises(ActionNotAllowedError) as too_early:
            await provider.cancel(activation.activation_id)
        now[0] += 31
        await provider.cancel(activation.activation_id)
        canceled = await provider.get_activation(activation.activation_id)
        balance = await provider.get_balance()

    assert provider.is_sandbox is True
    assert countries.items is not None
    assert countries.etag is not None
    assert {"us", "us_v"} <= {country.country_id for country in countries.items}
    assert unchanged.items is None
    assert activation.phone.startswith("+1")
    assert activation.status is ActivationStatus.ACTIVE
    assert activation.cancelable_after == datetime.fromtimestamp(1_800_000_030, tz=timezone.utc)
    assert too_early.value.error_name == "CancelNotAllowedException"
    assert canceled.status is ActivationStatus.CANCELED
    assert canceled.billing_status is BillingStatus.REFUNDED
    assert balance.reserved.amount == 0


async def test_sandbox_rejects_wrong_key() -> None:
    transport = httpx.ASGITransport(app=create_app(SandboxConfig(required_api_key="the-right-key")))

    async with PlatfoneProvider(CANARY_KEY, "http://sandbox.test/api/v1", transport=transport) as provider:
        with pytest.raises(AuthenticationError) as caught:
            await provider.get_balance()

    assert caught.value.status_code == 401
    assert_no_key(caught.value)
