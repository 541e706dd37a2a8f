"""Retry policy: which requests are sent again, how long the client waits, and PUT read-back."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
import respx

from sms_activation_mcp.providers.errors import (
    ActionNotAllowedError,
    InvalidRequestError,
    ProviderError,
    RateLimitedError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from sms_activation_mcp.providers.platfone import PlatfoneProvider
from sms_activation_mcp.providers.retry import RetryPolicy, is_retryable
from tests.test_platfone import BASE_URL, CANARY_KEY, activation_json, error_json

pytestmark = pytest.mark.anyio

BALANCE = {"total": 1000, "reserved": 0}


class FakeTime:
    """A monotonic clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def unavailable(status: int = 503) -> httpx.Response:
    return httpx.Response(status, json=error_json("ServiceUnavailableException", "try later"))


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def api() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE_URL, assert_all_called=False) as router:
        yield router


def make_policy(fake_time: FakeTime, jitter: float = 1.0, **options: Any) -> RetryPolicy:
    return RetryPolicy(sleep=fake_time.sleep, clock=fake_time.clock, random=lambda: jitter, **options)


@pytest.fixture
async def provider(api: respx.MockRouter, fake_time: FakeTime) -> AsyncIterator[PlatfoneProvider]:
    async with PlatfoneProvider(CANARY_KEY, BASE_URL, retry_policy=make_policy(fake_time)) as client:
        yield client


# GET requests


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_get_retried_on_5xx(
    api: respx.MockRouter, provider: PlatfoneProvider, fake_time: FakeTime, status: int
) -> None:
    route = api.get("/user/balance").mock(side_effect=[unavailable(status), httpx.Response(200, json=BALANCE)])

    balance = await provider.get_balance()

    assert balance.total.amount == 1000
    assert route.call_count == 2
    assert fake_time.sleeps == [0.5]


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (httpx.Response(501, text="Not Implemented"), UpstreamUnavailableError),
        (httpx.Response(400, json=error_json("InvalidServiceException")), InvalidRequestError),
        (httpx.Response(404, json={}), InvalidRequestError),
    ],
)
async def test_get_not_retried_on_other_errors(
    api: respx.MockRouter,
    provider: PlatfoneProvider,
    fake_time: FakeTime,
    response: httpx.Response,
    expected: type[ProviderError],
) -> None:
    route = api.get("/user/balance").mock(return_value=response)

    with pytest.raises(expected):
        await provider.get_balance()

    assert route.call_count == 1
    assert fake_time.sleeps == []


async def test_get_gives_up_after_max_attempts(
    api: respx.MockRouter, provider: PlatfoneProvider, fake_time: FakeTime
) -> None:
    route = api.get("/user/balance").mock(return_value=unavailable())

    with pytest.raises(UpstreamUnavailableError) as caught:
        await provider.get_balance()

    assert route.call_count == 3
    assert fake_time.sleeps == [0.5, 1.0]
    assert caught.value.status_code == 503


@pytest.mark.parametrize(
    "failure",
    [httpx.ConnectError("refused"), httpx.ReadError("reset"), httpx.ConnectTimeout("slow"), httpx.ReadTimeout("slow")],
)
async def test_get_retried_on_transport_errors(
    api: respx.MockRouter, provider: PlatfoneProvider, failure: Exception
) -> None:
    route = api.get("/user/balance").mock(side_effect=[failure, httpx.Response(200, json=BALANCE)])

    balance = await provider.get_balance()

    assert balance.total.amount == 1000
    assert route.call_count == 2


async def test_backoff_doubles_up_to_cap(api: respx.MockRouter, fake_time: FakeTime) -> None:
    route = api.get("/user/balance").mock(return_value=unavailable())
    policy = make_policy(fake_time, max_attempts=6, base_delay=1.0, max_delay=3.0, deadline=60.0)

    async with PlatfoneProvider(CANARY_KEY, BASE_URL, retry_policy=policy) as provider:
        with pytest.raises(UpstreamUnavailableError):
            await provider.get_balance()

    assert route.call_count == 6
    assert fake_time.sleeps == [1.0, 2.0, 3.0, 3.0, 3.0]


async def test_backoff_uses_full_jitter(api: respx.MockRouter, fake_time: FakeTime) -> None:
    api.get("/user/balance").mock(return_value=unavailable())
    policy = make_policy(fake_time, jitter=0.25)

    async with PlatfoneProvider(CANARY_KEY, BASE_URL, retry_policy=policy) as provider:
        with pytest.raises(UpstreamUnavailableError):
            await provider.get_balance()

    assert fake_time.sleeps == [0.125, 0.25]


async def test_retry_after_honoured(api: respx.MockRouter, provider: PlatfoneProvider, fake_time: FakeTime) -> None:
    limited = httpx.Response(429, json=error_json("TooManyRequestsException"), headers={"Retry-After": "7"})
    route = api.get("/user/balance").mock(side_effect=[limited, httpx.Response(200, json=BALANCE)])

    await provider.get_balance()

    assert route.call_count == 2
    assert fake_time.sleeps == [7.0]


async def test_429_without_retry_after_backs_off(
    api: respx.MockRouter, provider: PlatfoneProvider, fake_time: FakeTime
) -> None:
    limited = httpx.Response(429, json=error_json("TooManyRequestsException"))
    route = api.get("/user/balance").mock(side_effect=[limited, httpx.Response(200, json=BALANCE)])

    await provider.get_balance()

    assert route.call_count == 2
    assert fake_time.sleeps == [0.5]


@pytest.mark.parametrize("retry_after", ["31", "Fri, 01 Jan 2100 00:00:00 GMT"])
async def test_long_retry_after_raised_at_once(
    api: respx.MockRouter, provider: PlatfoneProvider, fake_time: FakeTime, retry_after: str
) -> None:
    limited = httpx.Response(429, json=error_json("TooManyRequestsException"), headers={"Retry-After": retry_after})
    route = api.get("/user/balance").mock(return_value=limited)

    with pytest.raises(RateLimitedError) as caught:
        await provider.get_balance()

    assert route.call_count == 1
    assert fake_time.sleeps == []
    assert caught.value.retry_after is not None
    assert caught.value.retry_after > 30


async def test_blocked_account_not_retried(
    api: respx.MockRouter, provider: PlatfoneProvider, fake_time: FakeTime
) -> None:
    blocked = httpx.Response(
        429,
        json=error_json("TooManyRequestsException", "Account blocked", blockedUntil=1_700_086_400),
        headers={"Retry-After": "5"},
    )
    route = api.get("/user/balance").mock(return_value=blocked)

    with pytest.raises(RateLimitedError) as caught:
        await provider.get_balance()

    assert route.call_count == 1
    assert caught.value.blocked_until == datetime(2023, 11, 15, 22, 13, 20, tzinfo=timezone.utc)


async def test_deadline_ends_retries(api: respx.MockRouter, fake_time: FakeTime) -> None:
    route = api.get("/user/balance").mock(return_value=unavailable())
    policy = make_policy(fake_time, max_attempts=10, base_delay=1.0, max_delay=8.0, deadline=5.0)

    async with PlatfoneProvider(CANARY_KEY, BASE_URL, retry_policy=policy) as provider:
        with pytest.raises(UpstreamUnavailableError):
            await provider.get_balance()

    # Waits of 1 s and 2 s fit in 5 s, but the next 4 s wait would end at 7 s.
    assert fake_time.sleeps == [1.0, 2.0]
    assert route.call_count == 3


async def test_deadline_shortens_request_timeout(api: respx.MockRouter, fake_time: FakeTime) -> None:
    route = api.get("/user/balance").mock(side_effect=[unavailable(), httpx.Response(200, json=BALANCE)])
    policy = make_policy(fake_time, base_delay=1.5, deadline=4.0)

    async with PlatfoneProvider(CANARY_KEY, BASE_URL, timeout=15.0, retry_policy=policy) as provider:
        await provider.get_balance()

    timeouts = [call.request.extensions["timeout"] for call in route.calls]
    assert [timeout["read"] for timeout in timeouts] == [4.0, 2.5]
    assert [timeout["connect"] for timeout in timeouts] == [4.0, 2.5]


async def test_retries_logged_without_key(
    api: respx.MockRouter, provider: PlatfoneProvider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="sms_activation_mcp")
    failing = httpx.Response(503, json=error_json("ServiceUnavailableException", f"no capacity for {CANARY_KEY}"))
    api.get("/user/balance").mock(return_value=failing)

    with pytest.raises(UpstreamUnavailableError):
        await provider.get_balance()

    retries = [record for record in caplog.records if record.getMessage().startswith("retrying")]
    assert [record.name for record in retries] == ["sms_activation_mcp.providers.platfone"] * 2
    assert retries[0].getMessage().startswith("retrying GET /user/balance in 0.50 s (attempt 2 of 3) because:")
    assert "attempt 3 of 3" in retries[1].getMessage()
    assert "giving up on GET /user/balance after 3 attempts" in caplog.text
    assert CANARY_KEY not in caplog.text


# POST is sent once


@pytest.mark.parametrize(
    "failure",
    [unavailable(503), unavailable(500), httpx.ReadTimeout("slow"), httpx.ConnectError("refused")],
    ids=["503", "500", "timeout", "connect"],
)
async def test_order_never_resent(
    api: respx.MockRouter, provider: PlatfoneProvider, fake_time: FakeTime, failure: Any
) -> None:
    route = api.post("/activation").mock(side_effect=[failure, httpx.Response(200, json=activation_json())])

    with pytest.raises((UpstreamUnavailableError, UpstreamTimeoutError)):
        await provider.order("uk", "tg")

    assert route.call_count == 1
    assert fake_time.sleeps == []


async def test_order_not_resent_on_429(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    limited = httpx.Response(429, json=error_json("TooManyRequestsException"), headers={"Retry-After": "1"})
    route = api.post("/activation").mock(return_value=limited)

    with pytest.raises(RateLimitedError):
        await provider.order("uk", "tg")

    assert route.call_count == 1


# PUT is sent once, then checked by reading the activation back


async def test_cancel_confirmed_by_read_back(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    put = api.put("/activation/act-1/cancel").mock(return_value=unavailable())
    get = api.get("/activation/act-1").respond(
        200, json=activation_json(activation_status="canceled", billing_status="refunded", sms_status="smsRequested")
    )

    await provider.cancel("act-1")

    assert put.call_count == 1
    assert get.call_count == 1


async def test_cancel_not_applied_raises_original(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    put = api.put("/activation/act-1/cancel").mock(side_effect=httpx.ReadTimeout("slow"))
    get = api.get("/activation/act-1").respond(200, json=activation_json(sms_status="smsRequested"))

    with pytest.raises(UpstreamTimeoutError) as caught:
        await provider.cancel("act-1")

    assert put.call_count == 1
    assert get.call_count == 1
    assert caught.value.message == "PUT /activation/act-1/cancel timed out: no response within 15 s (ReadTimeout)"


async def test_cancel_read_back_failure_unknown(
    api: respx.MockRouter, provider: PlatfoneProvider, caplog: pytest.LogCaptureFixture
) -> None:
    put = api.put("/activation/act-1/cancel").mock(return_value=unavailable(502))
    get = api.get("/activation/act-1").mock(return_value=unavailable(503))

    with pytest.raises(UpstreamUnavailableError) as caught:
        await provider.cancel("act-1")

    assert put.call_count == 1
    assert get.call_count == 3
    assert caught.value.status_code == 502
    assert caught.value.message.startswith("PUT /activation/act-1/cancel failed with HTTP 502")
    assert "unknown whether the cancel took effect" in caught.value.message
    assert "check_sms" in caught.value.message
    assert CANARY_KEY not in caplog.text


async def test_retry_confirmed_by_read_back(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    put = api.put("/activation/act-1/retry").mock(side_effect=httpx.ReadTimeout("slow"))
    api.get("/activation/act-1").respond(200, json=activation_json(sms_status="retryRequested"))

    await provider.retry("act-1")

    assert put.call_count == 1


async def test_retry_not_applied_raises_original(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    put = api.put("/activation/act-1/retry").mock(return_value=unavailable(500))
    api.get("/activation/act-1").respond(200, json=activation_json(sms_status="smsReceived"))

    with pytest.raises(UpstreamUnavailableError) as caught:
        await provider.retry("act-1")

    assert put.call_count == 1
    assert caught.value.status_code == 500
    assert "unknown" not in caught.value.message


@pytest.mark.parametrize(
    ("seconds_after_now", "took_effect"),
    [(5, True), (-3600, False)],
    ids=["after-request", "before-request"],
)
async def test_retry_received_judged_by_update_time(
    api: respx.MockRouter, provider: PlatfoneProvider, seconds_after_now: int, took_effect: bool
) -> None:
    updated_at = int(time.time()) + seconds_after_now
    api.put("/activation/act-1/retry").mock(return_value=unavailable())
    api.get("/activation/act-1").respond(200, json=activation_json(sms_status="retryReceived", updated_at=updated_at))

    if took_effect:
        await provider.retry("act-1")
    else:
        with pytest.raises(UpstreamUnavailableError):
            await provider.retry("act-1")


async def test_cancel_garbled_success_read_back(api: respx.MockRouter, provider: PlatfoneProvider) -> None:
    put = api.put("/activation/act-1/cancel").respond(200, text="<html>ok</html>")
    get = api.get("/activation/act-1").respond(200, json=activation_json(activation_status="canceled"))

    await provider.cancel("act-1")

    assert put.call_count == 1
    assert get.call_count == 1


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        # The connection failed before the request left, so the cancel cannot have happened.
        (httpx.ConnectError("refused"), UpstreamUnavailableError),
        (
            httpx.Response(429, json=error_json("TooManyRequestsException"), headers={"Retry-After": "1"}),
            RateLimitedError,
        ),
        (httpx.Response(400, json=error_json("CancelNotAllowedException", "SMS received")), ActionNotAllowedError),
    ],
    ids=["not-sent", "rate-limited", "not-allowed"],
)
async def test_put_rejection_skips_read_back(
    api: respx.MockRouter, provider: PlatfoneProvider, failure: Any, expected: type[ProviderError]
) -> None:
    put = api.put("/activation/act-1/cancel").mock(side_effect=[failure])
    get = api.get("/activation/act-1").respond(200, json=activation_json(activation_status="canceled"))

    with pytest.raises(expected):
        await provider.cancel("act-1")

    assert put.call_count == 1
    assert get.call_count == 0


# RetryPolicy on its own


@pytest.mark.parametrize(
    "options",
    [{"max_attempts": 0}, {"base_delay": -1.0}, {"max_delay": -1.0}, {"max_retry_after": -1.0}, {"deadline": 0.0}],
)
def test_policy_rejects_bad_values(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=next(iter(options))):
        RetryPolicy(**options)


def test_policy_backoff_values() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=3.0, random=lambda: 1.0)

    assert [policy.backoff(attempt) for attempt in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (UpstreamUnavailableError("down", status_code=503), True),
        (UpstreamUnavailableError("connection refused"), True),
        (UpstreamUnavailableError("not implemented", status_code=501), False),
        (UpstreamTimeoutError("slow"), True),
        (RateLimitedError("slow down", retry_after=3.0, status_code=429), True),
        (RateLimitedError("blocked", blocked_until=datetime(2030, 1, 1, tzinfo=timezone.utc)), False),
        (InvalidRequestError("bad", status_code=400), False),
    ],
)
def test_is_retryable(error: ProviderError, expected: bool) -> None:
    assert is_retryable(error) is expected


async def test_policy_passes_other_exceptions(fake_time: FakeTime) -> None:
    calls: list[float] = []

    async def send(seconds_left: float) -> None:
        calls.append(seconds_left)
        raise KeyError("bug")

    with pytest.raises(KeyError):
        await make_policy(fake_time).run(send, route="GET /x", logger=logging.getLogger("test"))

    assert calls == [30.0]
    assert fake_time.sleeps == []
