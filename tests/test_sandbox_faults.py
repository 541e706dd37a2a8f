"""Fault rules of the sandbox: statuses, delays, broken bodies, dropped connections, counts and after-effects."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from sms_activation_mcp.sandbox import FaultRule, SandboxConfig, create_app
from sms_activation_mcp.sandbox.faults import ConnectionDropped
from tests.test_sandbox import START, FakeClock, activation, assert_error, balance, make_client, order

pytestmark = pytest.mark.anyio

CONTROL = "http://sandbox/sandbox"


@pytest.fixture
async def api() -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(SandboxConfig(sms_delay_seconds=600, cancel_after_seconds=0), FakeClock()) as client:
        yield client


async def set_fault(client: httpx.AsyncClient, **rule: Any) -> None:
    response = await client.put(f"{CONTROL}/faults", json=rule)
    assert response.status_code == 200, response.text


async def test_status_fault(api: httpx.AsyncClient) -> None:
    await set_fault(api, route="balance", status=503)

    response = await api.get("/user/balance")

    assert_error(response, 503, "ServiceUnavailableException")
    assert response.headers["X-Sandbox"] == "true"


async def test_status_fault_custom_name(api: httpx.AsyncClient) -> None:
    await set_fault(api, route="order", status=403, error_name="AccountOnHoldException")

    response = await api.post("/activation", json={"country_id": "us", "service_id": "tg"})

    assert_error(response, 403, "AccountOnHoldException")
    assert await balance(api) == {"total": 1000, "reserved": 0}


async def test_rate_limit_retry_after(api: httpx.AsyncClient) -> None:
    await set_fault(api, route="get_activation", status=429, retry_after=7)

    response = await api.get("/activation/424242")

    assert_error(response, 429, "TooManyRequestsException")
    assert response.headers["Retry-After"] == "7"


async def test_delay_fault_sleeps(api: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch) -> None:
    delays: list[float] = []

    async def record_sleep(seconds: float) -> None:
        delays.append(seconds)

    monkeypatch.setattr("sms_activation_mcp.sandbox.faults.asyncio.sleep", record_sleep)
    await set_fault(api, route="balance", delay_seconds=2.5)

    response = await api.get("/user/balance")

    assert delays == [2.5]
    assert response.json() == {"total": 1000, "reserved": 0}


async def test_delay_fault_real_sleep(api: httpx.AsyncClient) -> None:
    await set_fault(api, route="countries", delay_seconds=0.01, times=1)

    response = await api.get("/activation/countries")

    assert response.status_code == 200
    assert len(response.json()) == 252


async def test_not_json_body(api: httpx.AsyncClient) -> None:
    await set_fault(api, route="services", status=502, body="not_json")

    response = await api.get("/activation/services")

    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html")
    with pytest.raises(json.JSONDecodeError):
        response.json()


async def test_truncated_body(api: httpx.AsyncClient) -> None:
    await set_fault(api, route="balance", body="truncated")

    response = await api.get("/user/balance")

    assert response.status_code == 200
    assert response.content
    with pytest.raises(json.JSONDecodeError):
        response.json()


async def test_truncated_after_effect(api: httpx.AsyncClient) -> None:
    await set_fault(api, route="order", body="truncated", after_effect=True, times=1)

    response = await api.post("/activation", json={"country_id": "us", "service_id": "tg"})

    # The order went through although its response is cut: the price is reserved.
    assert response.status_code == 200
    assert response.text.startswith('{"activation_id":')
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert (await balance(api))["reserved"] > 0


async def test_empty_body(api: httpx.AsyncClient) -> None:
    await set_fault(api, route="price", body="empty")

    response = await api.get("/activation/prices/services/tg/countries/us")

    assert response.status_code == 200
    assert response.content == b""


async def test_wrong_shape_body(api: httpx.AsyncClient) -> None:
    await set_fault(api, route="countries", body="wrong_shape")

    response = await api.get("/activation/countries")

    assert response.status_code == 200
    assert not isinstance(response.json(), list)


async def test_drop_connection_raises_in_process(api: httpx.AsyncClient) -> None:
    await set_fault(api, route="balance", drop_connection=True)

    with pytest.raises(ConnectionDropped):
        await api.get("/user/balance")


async def test_drop_connection_500_without_raising() -> None:
    app = create_app(SandboxConfig(faults=(FaultRule(route="retry", drop_connection=True),)))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sandbox/api/v1", headers={"X-Api-Key": "k"}
    ) as client:
        response = await client.put("/activation/424242/retry")

    assert response.status_code == 500
    assert response.content == b""
    assert response.headers["X-Sandbox"] == "true"


async def test_times_limits_fault(api: httpx.AsyncClient) -> None:
    await set_fault(api, route="balance", status=500, times=2)

    statuses = [(await api.get("/user/balance")).status_code for _ in range(3)]
    faults = (await api.get(f"{CONTROL}/faults")).json()
    stats = (await api.get(f"{CONTROL}/stats")).json()

    assert statuses == [500, 500, 200]
    assert faults == {"faults": []}
    assert stats["balance"] == 3


async def test_faults_listed_with_remaining(api: httpx.AsyncClient) -> None:
    await set_fault(api, route="cancel", status=503, times=3)
    await api.put("/activation/424242/cancel")

    faults = (await api.get(f"{CONTROL}/faults")).json()["faults"]

    assert faults == [{"route": "cancel", "status": 503, "times": 3, "remaining": 2}]


async def test_cancel_fault_before_effect(api: httpx.AsyncClient) -> None:
    created = await order(api)
    await set_fault(api, route="cancel", status=503, times=1)

    response = await api.put(f"/activation/{created['activation_id']}/cancel")

    assert response.status_code == 503
    assert (await activation(api, created["activation_id"]))["activation_status"] == "active"


async def test_cancel_fault_after_effect(api: httpx.AsyncClient) -> None:
    created = await order(api)
    await set_fault(api, route="cancel", status=503, after_effect=True, times=1)

    response = await api.put(f"/activation/{created['activation_id']}/cancel")

    assert response.status_code == 503
    assert (await activation(api, created["activation_id"]))["activation_status"] == "canceled"
    assert await balance(api) == {"total": 1000, "reserved": 0}


async def test_retry_drop_after_effect() -> None:
    clock = FakeClock()
    app = create_app(SandboxConfig(), clock=clock)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://sandbox/api/v1", headers={"X-Api-Key": "k"}
    ) as api:
        created = await order(api)
        clock.advance(8)
        await set_fault(api, route="retry", drop_connection=True, after_effect=True, times=1)

        response = await api.put(f"/activation/{created['activation_id']}/retry")
        after = await activation(api, created["activation_id"])

    assert response.status_code == 500
    assert after["sms_status"] == "retryRequested"
    assert after["updated_at"] == int(START) + 8


async def test_wildcard_and_route_rules(api: httpx.AsyncClient) -> None:
    await set_fault(api, route="*", status=503)
    await set_fault(api, route="balance", status=429)

    balance_response = await api.get("/user/balance")
    services_response = await api.get("/activation/services")
    control_response = await api.get(f"{CONTROL}/stats")

    assert balance_response.status_code == 429
    assert services_response.status_code == 503
    assert control_response.status_code == 200


async def test_put_replaces_route_rule(api: httpx.AsyncClient) -> None:
    await set_fault(api, route="balance", status=500)
    await set_fault(api, route="balance", status=502)

    assert (await api.get("/user/balance")).status_code == 502


async def test_delete_clears_faults(api: httpx.AsyncClient) -> None:
    await set_fault(api, route="*", status=503)

    cleared = await api.delete(f"{CONTROL}/faults")

    assert cleared.json() == {"faults": []}
    assert (await api.get("/user/balance")).status_code == 200


async def test_config_faults_rearmed_on_reset() -> None:
    config = SandboxConfig(faults=(FaultRule(route="balance", status=500, times=1),))
    async with make_client(config, FakeClock()) as api:
        before_reset = [(await api.get("/user/balance")).status_code for _ in range(2)]
        await api.post(f"{CONTROL}/reset")
        after_reset = [(await api.get("/user/balance")).status_code for _ in range(2)]

    assert before_reset == [500, 200]
    assert after_reset == [500, 200]


async def test_unauthorized_skips_fault() -> None:
    config = SandboxConfig(required_api_key="right", faults=(FaultRule(route="balance", status=503, times=1),))
    async with make_client(config, FakeClock(), api_key="right") as api:
        unauthorized = await api.get("/user/balance", headers={"X-Api-Key": "wrong"})
        faulted = await api.get("/user/balance")
        served = await api.get("/user/balance")

    assert unauthorized.status_code == 401
    assert faulted.status_code == 503
    assert served.status_code == 200


@pytest.mark.parametrize(
    "rule",
    [
        {"route": "nowhere", "status": 503},
        {"route": "balance"},
        {"route": "balance", "drop_connection": True, "status": 503},
        {"route": "balance", "retry_after": 5},
        {"route": "balance", "status": 99},
        {"route": "balance", "status": 503, "times": 0},
        {"route": "balance", "body": "garbled"},
        {"route": "balance", "status": 503, "colour": "red"},
    ],
)
async def test_invalid_rule_rejected(api: httpx.AsyncClient, rule: dict[str, Any]) -> None:
    response = await api.put(f"{CONTROL}/faults", json=rule)

    assert_error(response, 400, "InvalidRequestException")
    assert (await api.get(f"{CONTROL}/faults")).json() == {"faults": []}
