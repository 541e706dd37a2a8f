"""Placing an order within the owner's limits, with the ledger kept in step."""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from mcp.server.mcpserver.exceptions import ToolError

from sms_activation_mcp.limits import (
    ALLOWED_COUNTRIES_ENV,
    ALLOWED_SERVICES_ENV,
    DuplicateOrderError,
    LimitError,
    PriceCapError,
)
from sms_activation_mcp.messages import AgentError, provider_failure
from sms_activation_mcp.models import Activation, Country, Service
from sms_activation_mcp.providers import (
    InvalidResponseError,
    MaxPriceExceededError,
    ProviderError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from sms_activation_mcp.results import iso_utc
from sms_activation_mcp.runtime import COUNTRIES, SERVICES, Runtime

if TYPE_CHECKING:
    from sms_activation_mcp.ledger import PendingOrder

logger = logging.getLogger(__name__)

# After these the order may or may not exist upstream, so its hold stays until the ledger ages it out.
UNCERTAIN_OUTCOME = (UpstreamTimeoutError, UpstreamUnavailableError, InvalidResponseError)


async def place_order(
    runtime: Runtime,
    country: Country,
    service: Service,
    *,
    max_price: int | None,
    quality_factor: int | None,
    order_id: str | None,
) -> Activation:
    """Order a number within the owner's limits, with its price reserved in the ledger until the order settles."""
    await _check_allowed(runtime, country, service)
    upstream_max = runtime.limits.effective_max_price(max_price)
    hold_cents = upstream_max if upstream_max is not None else await _estimate_price(runtime, country, service)

    async with runtime.single_order(country.country_id, service.service_id):
        pending = await _hold(runtime, country, service, hold_cents)
        try:
            activation = await runtime.provider.order(
                country.country_id,
                service.service_id,
                max_price=upstream_max,
                quality_factor=quality_factor,
                order_id=order_id,
            )
        except ProviderError as error:
            logger.warning("order %s/%s failed: %r", country.country_id, service.service_id, error)
            if not isinstance(error, UNCERTAIN_OUTCOME):
                with contextlib.suppress(ToolError):  # in_ledger logged it; the order's failure is the news
                    await runtime.in_ledger(lambda: runtime.ledger.abandon_order(pending))
            raise _order_failure(runtime, error) from None

        # The number is rented whatever the ledger does now, so a storage failure must not hide it.
        with contextlib.suppress(ToolError):
            await runtime.in_ledger(lambda: runtime.ledger.complete_order(pending, activation))
            runtime.mark_recorded(activation)
    return activation


async def _hold(runtime: Runtime, country: Country, service: Service, hold_cents: int) -> PendingOrder:
    try:
        return await runtime.in_ledger(
            lambda: runtime.ledger.begin_order(
                country_id=country.country_id,
                service_id=service.service_id,
                hold_cents=hold_cents,
                limits=runtime.limits,
                now=datetime.now(timezone.utc),
            )
        )
    except LimitError as error:
        logger.info("order %s/%s rejected by the %s limit", country.country_id, service.service_id, error.limit_name)
        raise limit_failure(error) from None


def limit_failure(error: LimitError) -> AgentError:
    """Turn an owner's limit refusal into a tool error, with the earlier activation when there is one."""
    details: dict[str, object] = {}
    if isinstance(error, DuplicateOrderError):
        details["activation_id"] = error.activation_id
        details["cancelable_at"] = iso_utc(error.cancelable_after) if error.cancelable_after else None
    return AgentError(error.message, code=error.limit_name, **details)


def _order_failure(runtime: Runtime, error: ProviderError) -> AgentError:
    cap = runtime.limits.max_price_cents
    if isinstance(error, MaxPriceExceededError) and cap is not None and error.suggested_price.amount > cap:
        return limit_failure(PriceCapError(cap_cents=cap, price_cents=error.suggested_price.amount))
    return provider_failure(error, action="order")


async def _estimate_price(runtime: Runtime, country: Country, service: Service) -> int:
    """Return the most this order can cost, for the budget hold, when no max price bounds it."""
    if runtime.limits.daily_budget_cents is None:
        return 0
    price = await runtime.call(
        "check the price", lambda: runtime.provider.get_price(country.country_id, service.service_id)
    )
    return price.max.amount


async def _check_allowed(runtime: Runtime, country: Country, service: Service) -> None:
    checks = (
        (COUNTRIES, runtime.limits.allowed_countries, ALLOWED_COUNTRIES_ENV, country.country_id, country.name),
        (SERVICES, runtime.limits.allowed_services, ALLOWED_SERVICES_ENV, service.service_id, service.name),
    )
    for kind, allowed_names, variable, item_id, item_name in checks:
        if not allowed_names:
            continue
        allowed = await runtime.matching_ids(kind, allowed_names)
        if item_id in allowed:
            continue

        if not allowed:
            raise AgentError(
                f"The owner's {variable} ({', '.join(allowed_names)}) names no {kind.noun} of the catalog, so "
                f"no order can pass it. The server's owner must correct it, with names or ids from {kind.list_tool}.",
                code="not_allowed_by_owner",
                allowed=[],
            )
        raise AgentError(
            f"The owner of this server allows only these {kind.noun_plural}: {', '.join(sorted(allowed))} "
            f"({variable}); {item_name} ({item_id}) is not among them. Choose one of those ids.",
            code="not_allowed_by_owner",
            allowed=sorted(allowed),
        )
