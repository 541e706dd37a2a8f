"""The owner's spend limits and the ledger, through the tools."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from sms_activation_mcp.limits import SpendLimits
from sms_activation_mcp.ordering import place_order
from sms_activation_mcp.providers.platfone import PlatfoneProvider
from sms_activation_mcp.runtime import SANDBOX_API_KEY, SANDBOX_BASE_URL, Runtime
from tests.conftest import Harness, make_settings

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("limits", [SpendLimits(max_price_cents=1)])
async def test_price_cap_refusal_names_owner_limit(harness: Harness) -> None:
    message = await harness.error("order_number", country="us", service="tg")

    assert "SMS_MCP_MAX_PRICE_CENTS" in message
    assert "order_id" not in message
    balance = await harness.ok("get_balance")
    assert balance["reserved"]["cents"] == 0


@pytest.mark.parametrize("limits", [SpendLimits(max_price_cents=10_000)])
async def test_price_cap_lowers_agent_max_price(harness: Harness) -> None:
    order = await harness.ok("order_number", country="us", service="tg", max_price=99_999)

    assert order["price"]["cents"] <= 10_000
    balance = await harness.ok("get_balance")
    assert balance["limits"]["max_price"]["cents"] == 10_000


@pytest.mark.parametrize("limits", [SpendLimits(daily_budget_cents=60, max_active=10)])
async def test_daily_budget_refuses_past_limit(harness: Harness) -> None:
    orders = []
    for service in ("tg", "wa", "go", "fb", "ig", "tw"):
        result = await harness.call("order_number", country="ru", service=service)
        if result.is_error:
            message = result.content[0].text  # type: ignore[union-attr]
            break
        orders.append(result.structured_content)
    else:
        pytest.fail("six orders passed a 60 cent budget")

    assert "SMS_MCP_DAILY_BUDGET_CENTS" in message
    spent = sum(order["price"]["cents"] for order in orders)  # type: ignore[index]
    assert spent <= 60
    balance = await harness.ok("get_balance")
    assert balance["limits"]["spent_last_24h"]["cents"] == spent
    assert balance["limits"]["budget_left"]["cents"] == 60 - spent


@pytest.mark.parametrize("limits", [SpendLimits(max_active=2)])
async def test_max_active_refusal(harness: Harness) -> None:
    await harness.ok("order_number", country="us", service="tg")
    await harness.ok("order_number", country="gb", service="tg")

    message = await harness.error("order_number", country="de", service="tg")

    assert "SMS_MCP_MAX_ACTIVE" in message


async def test_duplicate_order_names_earlier_activation(harness: Harness) -> None:
    first = await harness.ok("order_number", country="us", service="tg")

    message = await harness.error("order_number", country="United States", service="Telegram")

    assert first["activation_id"] in message


async def test_duplicate_allowed_after_sms(harness: Harness) -> None:
    first = await harness.ok("order_number", country="us", service="tg")
    await harness.deliver_sms(first["activation_id"])
    await harness.ok("check_sms", activation_id=first["activation_id"])

    second = await harness.ok("order_number", country="us", service="tg")

    assert second["activation_id"] != first["activation_id"]


@pytest.mark.parametrize(
    "limits", [SpendLimits(allowed_countries=("United States", "gb"), allowed_services=("Telegram",))]
)
async def test_allowed_lists(harness: Harness) -> None:
    country_message = await harness.error("order_number", country="de", service="tg")
    service_message = await harness.error("order_number", country="us", service="wa")
    allowed = await harness.ok("order_number", country="uk", service="telegram")

    assert "SMS_MCP_ALLOWED_COUNTRIES" in country_message
    assert "SMS_MCP_ALLOWED_SERVICES" in service_message
    assert allowed["country_id"] == "gb"


async def test_list_activations_shows_orders_and_codes(harness: Harness) -> None:
    first = await harness.ok("order_number", country="us", service="tg")
    second = await harness.ok("order_number", country="gb", service="wa")
    await harness.deliver_sms(first["activation_id"], "Your code is 5521")

    listed = await harness.ok("list_activations")
    by_id = {item["activation_id"]: item for item in listed["activations"]}

    assert listed["returned"] == 2
    assert listed["activations"][0]["activation_id"] == second["activation_id"]
    assert by_id[first["activation_id"]]["sms_code"] == "5521"
    assert by_id[second["activation_id"]]["sms_received"] is False

    active = await harness.ok("list_activations", active_only=True, limit=1)
    assert active["returned"] == 1


async def test_sandbox_ledger_kept_apart(harness: Harness) -> None:
    await harness.ok("order_number", country="us", service="tg")

    assert harness.runtime.ledger.path.name == "ledger-sandbox.sqlite3"
    assert harness.runtime.ledger.list()


def account_runtime(harness: Harness, data_dir: Path) -> Runtime:
    """A runtime as a real account has one (an API key, a ledger in `data_dir`), served by the harness's sandbox."""
    provider = PlatfoneProvider(
        SANDBOX_API_KEY, SANDBOX_BASE_URL, transport=httpx.ASGITransport(app=harness.sandbox), is_sandbox=True
    )
    return Runtime(make_settings(api_key="account-test-key"), provider, data_dir=data_dir)


@pytest.mark.parametrize("settings", [make_settings(sandbox_sms_delay_seconds=10_000)])
async def test_reconcile_after_restart(harness: Harness, tmp_path: Path) -> None:
    first = account_runtime(harness, tmp_path)
    country, service = await first.resolve_country("us"), await first.resolve_service("tg")
    order = await place_order(first, country, service, max_price=None, quality_factor=None, order_id=None)
    await first.aclose()
    await harness.advance(5000)  # past the sandbox lifetime: the activation expires and is refunded

    restarted = account_runtime(harness, tmp_path)
    assert restarted.ledger.get(order.activation_id).status.value == "active"  # type: ignore[union-attr]
    await restarted.reconcile()

    entry = restarted.ledger.get(order.activation_id)
    assert entry is not None
    assert entry.status.value == "expired"
    await restarted.aclose()


async def test_unknown_activation_closed_in_ledger(harness: Harness, tmp_path: Path) -> None:
    first = account_runtime(harness, tmp_path)
    country, service = await first.resolve_country("us"), await first.resolve_service("tg")
    order = await place_order(first, country, service, max_price=None, quality_factor=None, order_id=None)
    await first.aclose()
    await harness.control.post("/sandbox/reset")  # the sandbox drops every activation, as after its restart

    restarted = account_runtime(harness, tmp_path)
    await restarted.reconcile()

    entry = restarted.ledger.get(order.activation_id)
    assert entry is not None
    assert entry.status.value == "expired"
    assert entry.billing_status.value == "released"
    again = await place_order(restarted, country, service, max_price=None, quality_factor=None, order_id=None)
    assert again.activation_id != order.activation_id
    await restarted.aclose()


async def test_in_process_sandbox_ledger_is_private(harness: Harness, tmp_path: Path) -> None:
    await harness.ok("order_number", country="us", service="tg")

    assert not list(tmp_path.glob("*.sqlite3"))
    assert harness.runtime.ledger.path.parent != tmp_path


@pytest.mark.parametrize("limits", [SpendLimits(allowed_countries=("Korea",))])
async def test_allowed_list_naming_nothing_tells_owner(harness: Harness) -> None:
    message = await harness.error("order_number", country="kr", service="tg")

    assert "SMS_MCP_ALLOWED_COUNTRIES" in message
    assert "names no country" in message
    assert "owner must correct it" in message


@pytest.mark.parametrize("limits", [SpendLimits(allowed_countries=("uk", "Atlantis"))])
async def test_allowed_list_lists_resolved_ids(harness: Harness) -> None:
    message = await harness.error("order_number", country="de", service="tg")

    assert "gb" in message
    assert "Germany (de)" in message


async def test_unconfirmed_order_blocks_same_pair(harness: Harness) -> None:
    await harness.fault(route="order", status=503, times=1)
    first = await harness.error("order_number", country="us", service="tg")

    again = await harness.error("order_number", country="us", service="tg")
    other_pair = await harness.ok("order_number", country="gb", service="tg")

    assert "may or may not have been placed" in first
    assert "has not settled yet" in again
    assert other_pair["country_id"] == "gb"
