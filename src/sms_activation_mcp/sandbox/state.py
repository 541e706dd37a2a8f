"""The sandbox account: balance, activations and price quotes, advanced lazily by the clock.

Nothing runs in the background. Every public method takes the current time and first
settles what became due by then (SMS arrivals and expiries, in time order), so every
read returns the lifecycle as if it had run continuously.
"""

from __future__ import annotations

import logging
import math
import random
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace

from sms_activation_mcp.sandbox.activation import ReceivedSms, SandboxActivation
from sms_activation_mcp.sandbox.bodies import OrderRequest
from sms_activation_mcp.sandbox.catalog import SandboxCatalog
from sms_activation_mcp.sandbox.config import SandboxConfig
from sms_activation_mcp.sandbox.errors import SandboxError
from sms_activation_mcp.sandbox.phones import make_phone
from sms_activation_mcp.sandbox.pricing import Quote, price_at_quality, quote_pair
from sms_activation_mcp.sandbox.sms_texts import compose_sms, find_code

logger = logging.getLogger("sms_activation_mcp.sandbox")

MAX_ACTIVE_ACTIVATIONS = 20
# Quotes handed out with a 409 are kept for a later order; the oldest are dropped past this count.
_MAX_QUOTED_ORDERS = 1000


@dataclass(frozen=True)
class _QuotedOrder:
    country_id: str
    service_id: str
    price: int


class SandboxAccount:
    """One account's money and activations; `new_activation_id` hands out IDs unique to the app."""

    def __init__(self, config: SandboxConfig, catalog: SandboxCatalog, new_activation_id: Callable[[], str]) -> None:
        self._config = config
        self._catalog = catalog
        self._new_activation_id = new_activation_id
        self.total_cents = config.balance_cents
        self._activations: dict[str, SandboxActivation] = {}
        # Ordinal of each activation in this account, which seeds its phone number and codes.
        self._ordinals: dict[str, int] = {}
        self._quoted_orders: dict[str, _QuotedOrder] = {}
        self._taken: Counter[tuple[str, str]] = Counter()

    def settle(self, now: float) -> None:
        """Deliver the SMS and expire the activations that became due by `now`."""
        for activation in self._activations.values():
            if not activation.is_active:
                continue

            due = activation.next_sms_at
            if due is not None and due <= now and due < activation.expire_at:
                self._receive_sms(activation, due, text=None, code=None)
            if activation.expire_at <= now:
                self._expire(activation)

    def balance(self, now: float) -> tuple[int, int]:
        """Return the total and the reserved part, in cents."""
        self.settle(now)
        reserved = sum(activation.reserved_cents for activation in self._activations.values())
        return self.total_cents, reserved

    def set_total(self, total_cents: int, now: float) -> None:
        """Set the total, after billing what became due before now at the old total."""
        self.settle(now)
        self.total_cents = total_cents

    def quote(self, country_id: str, service_id: str) -> Quote:
        """Return the pair's quote with the numbers already rented taken out of its stock."""
        if country_id not in self._catalog.countries.by_id:
            raise SandboxError(
                400,
                "InvalidCountryException",
                f"Unknown country_id {country_id!r}; GET /activation/countries lists the valid IDs.",
            )
        if service_id not in self._catalog.services.by_id:
            raise SandboxError(
                400,
                "InvalidServiceException",
                f"Unknown service_id {service_id!r}; GET /activation/services lists the valid IDs.",
            )

        quote = quote_pair(self._config.seed, country_id, service_id)
        stock = max(0, quote.stock - self._taken[(country_id, service_id)])
        return replace(quote, stock=stock)

    def order(self, request: OrderRequest, now: float) -> SandboxActivation:
        """Rent a number and reserve its price, or raise the SandboxError Platfone would respond with."""
        self.settle(now)
        quote = self.quote(request.country_id, request.service_id)

        if self._catalog.services.by_id[request.service_id]["prohibited"]:
            raise SandboxError(400, "ServiceProhibitedException", f"Service {request.service_id!r} may not be ordered.")
        if quote.stock == 0:
            raise SandboxError(
                400,
                "NoNumbersAvailableException",
                f"No numbers available for {request.service_id!r} in {request.country_id!r}.",
            )
        active = sum(1 for activation in self._activations.values() if activation.is_active)
        if active >= MAX_ACTIVE_ACTIVATIONS:
            raise SandboxError(
                400,
                "TooManyActivationsException",
                f"{active} activations are active, the maximum is {MAX_ACTIVE_ACTIVATIONS}.",
            )

        price, order_id = self._agree_price(request, quote)
        total, reserved = self.balance(now)
        if total - reserved < price:
            raise SandboxError(
                402,
                "NotEnoughFundsException",
                f"The price is {price} cents but only {total - reserved} cents are available.",
            )

        if order_id is not None:
            del self._quoted_orders[order_id]
        activation = self._create(request.country_id, request.service_id, price, now)
        logger.info(
            "ordered activation %s %s/%s at %dc",
            activation.activation_id,
            activation.country_id,
            activation.service_id,
            price,
        )
        return activation

    def get(self, activation_id: str, now: float) -> SandboxActivation:
        self.settle(now)
        activation = self._activations.get(activation_id)
        if activation is None:
            raise SandboxError(404, "ActivationNotFoundException", f"Activation {activation_id!r} not found.")
        return activation

    def request_retry(self, activation_id: str, now: float) -> None:
        """Ask for another SMS, which arrives `sms_delay_seconds` from now."""
        activation = self.get(activation_id, now)

        reason = None
        if not activation.is_active:
            reason = f"activation {activation_id} is {activation.status}; only an active one can be retried"
        elif not activation.has_sms:
            reason = f"no SMS has arrived on activation {activation_id} yet; retry is allowed after the first"
        elif activation.retry_requested:
            reason = f"a retry is already pending on activation {activation_id}"
        if reason is not None:
            raise SandboxError(400, "RetryNotAllowedException", f"Retry not allowed: {reason}.")

        activation.retry_requested = True
        activation.next_sms_at = now + self._config.sms_delay_seconds
        activation.updated_at = now
        logger.info("retry requested on activation %s", activation_id)

    def cancel(self, activation_id: str, now: float) -> None:
        """Cancel an activation that has no SMS yet, and refund its price."""
        activation = self.get(activation_id, now)

        reason = None
        if not activation.is_active:
            reason = f"activation {activation_id} is {activation.status}; only an active one can be canceled"
        elif activation.has_sms:
            reason = f"an SMS already arrived on activation {activation_id}, so it is billed"
        elif now < activation.cancelable_after:
            allowed_at = math.ceil(activation.cancelable_after)
            wait = math.ceil(activation.cancelable_after - now)
            reason = f"activation {activation_id} can be canceled from {allowed_at} (in {wait} s)"
        if reason is not None:
            raise SandboxError(400, "CancelNotAllowedException", f"Cancel not allowed: {reason}.")

        activation.status = "canceled"
        activation.next_sms_at = None
        activation.updated_at = now
        logger.info("canceled activation %s, refunded %dc", activation_id, activation.price)

    def inject_sms(self, activation_id: str, now: float, text: str | None, code: str | None) -> SandboxActivation:
        """Make an SMS arrive now, with the given text and code or generated ones."""
        activation = self.get(activation_id, now)
        if not activation.is_active:
            raise SandboxError(
                400,
                "ActivationNotActiveException",
                f"Activation {activation_id} is {activation.status}; only an active one can receive an SMS.",
            )

        self._receive_sms(activation, now, text, code)
        return activation

    def _agree_price(self, request: OrderRequest, quote: Quote) -> tuple[int, str | None]:
        # A quote from an earlier 409 keeps its price for the same pair, whatever the quality factor.
        quoted = self._quoted_orders.get(request.order_id) if request.order_id else None
        if quoted is not None and (quoted.country_id, quoted.service_id) == (
            request.country_id,
            request.service_id,
        ):
            price, order_id = quoted.price, request.order_id
        else:
            price, order_id = price_at_quality(quote.min, quote.max, request.quality_factor), None

        if request.max_price is not None and request.max_price < price:
            order_id = order_id or uuid.uuid4().hex[:16]
            self._remember_quote(order_id, _QuotedOrder(request.country_id, request.service_id, price))
            raise SandboxError(
                409,
                "MaxPriceExceededException",
                f"The price is {price} cents, above max_price {request.max_price}.",
                {"suggestedPrice": price, "orderId": order_id},
            )
        return price, order_id

    def _remember_quote(self, order_id: str, quoted: _QuotedOrder) -> None:
        self._quoted_orders[order_id] = quoted
        while len(self._quoted_orders) > _MAX_QUOTED_ORDERS:
            del self._quoted_orders[next(iter(self._quoted_orders))]

    def _create(self, country_id: str, service_id: str, price: int, now: float) -> SandboxActivation:
        ordinal = len(self._ordinals) + 1
        rng = random.Random(f"phone/{self._config.seed}/{ordinal}")
        dialing_code = rng.choice(self._catalog.countries.by_id[country_id]["codes"])

        activation = SandboxActivation(
            activation_id=self._new_activation_id(),
            phone=make_phone(country_id, dialing_code, rng),
            country_id=country_id,
            service_id=service_id,
            price=price,
            created_at=now,
            expire_at=now + self._config.lifetime_seconds,
            cancelable_after=now + self._config.cancel_after_seconds,
            updated_at=now,
            next_sms_at=now + self._config.sms_delay_seconds,
        )
        self._activations[activation.activation_id] = activation
        self._ordinals[activation.activation_id] = ordinal
        self._taken[(country_id, service_id)] += 1
        return activation

    def _receive_sms(self, activation: SandboxActivation, at: float, text: str | None, code: str | None) -> None:
        if text is None:
            text, code = self._compose_text(activation, code)
        elif code is None:
            code = find_code(text)

        is_first = not activation.has_sms
        activation.messages.append(
            ReceivedSms(text=text, code=code, arrived_at=at, after_retry=activation.retry_requested)
        )
        activation.retry_requested = False
        activation.next_sms_at = None
        activation.updated_at = at

        if is_first:
            self.total_cents -= activation.price
            logger.info("SMS arrived on activation %s, billed %dc", activation.activation_id, activation.price)
        else:
            logger.info("SMS %d arrived on activation %s", len(activation.messages), activation.activation_id)

    def _compose_text(self, activation: SandboxActivation, code: str | None) -> tuple[str, str]:
        service = self._catalog.services.by_id[activation.service_id]
        ordinal = self._ordinals[activation.activation_id]
        rng = random.Random(f"sms/{self._config.seed}/{ordinal}/{len(activation.messages)}")
        previous_code = activation.messages[-1].code if activation.messages else None

        composed = compose_sms(activation.service_id, service["name"], rng, code)
        # A new SMS after a retry must carry a new code, or a client could not tell them apart.
        while code is None and composed.code == previous_code:
            composed = compose_sms(activation.service_id, service["name"], rng)
        return composed.text, composed.code

    def _expire(self, activation: SandboxActivation) -> None:
        activation.next_sms_at = None
        activation.updated_at = activation.expire_at

        if activation.has_sms:
            activation.status = "finalized"
            logger.info("activation %s finalized at expiry", activation.activation_id)
        else:
            activation.status = "expired"
            logger.info("activation %s expired without SMS, refunded %dc", activation.activation_id, activation.price)
