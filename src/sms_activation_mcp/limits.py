"""The owner's spend limits and the errors raised when an order would break one.

The owner sets the limits in the server's environment. The agent cannot change
them, so every error message names the variable, gives the figures and states what
the agent can still do within the limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone

from sms_activation_mcp.models import Money

MAX_PRICE_ENV = "SMS_MCP_MAX_PRICE_CENTS"
DAILY_BUDGET_ENV = "SMS_MCP_DAILY_BUDGET_CENTS"
MAX_ACTIVE_ENV = "SMS_MCP_MAX_ACTIVE"
ALLOWED_COUNTRIES_ENV = "SMS_MCP_ALLOWED_COUNTRIES"
ALLOWED_SERVICES_ENV = "SMS_MCP_ALLOWED_SERVICES"

# Numbers ordered and left without an SMS lower the account's SMS success rate,
# and Platfone blocks accounts whose rate falls very low for a day.
DEFAULT_MAX_ACTIVE = 3


@dataclass(frozen=True)
class SpendLimits:
    """The limits the owner put on ordering. None and empty tuples mean no limit.

    Money is in USD cents. The allowed lists contain names or ids as the owner wrote
    them, and the server resolves them against the catalog.
    """

    max_price_cents: int | None = None
    daily_budget_cents: int | None = None
    max_active: int = DEFAULT_MAX_ACTIVE
    allowed_countries: tuple[str, ...] = ()
    allowed_services: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> SpendLimits:
        """Read the limits from environment variables. An empty value counts as unset.

        Raises ValueError naming the variable when a value is not a positive whole number.
        """
        max_active = _read_positive_int(environ, MAX_ACTIVE_ENV)

        return cls(
            max_price_cents=_read_positive_int(environ, MAX_PRICE_ENV),
            daily_budget_cents=_read_positive_int(environ, DAILY_BUDGET_ENV),
            max_active=DEFAULT_MAX_ACTIVE if max_active is None else max_active,
            allowed_countries=_read_list(environ, ALLOWED_COUNTRIES_ENV),
            allowed_services=_read_list(environ, ALLOWED_SERVICES_ENV),
        )

    def effective_max_price(self, requested: int | None) -> int | None:
        """Return the max price in cents to send upstream: the lower of the request and the cap."""
        if self.max_price_cents is None:
            return requested
        if requested is None:
            return self.max_price_cents
        return min(requested, self.max_price_cents)


def _read_positive_int(environ: Mapping[str, str], name: str) -> int | None:
    raw = environ.get(name, "").strip()
    if not raw:
        return None

    try:
        value = int(raw)
    except ValueError:
        message = f"{name} must be a whole number, got {raw!r}. Unset it to remove the limit."
        raise ValueError(message) from None

    if value < 1:
        raise ValueError(f"{name} must be at least 1, got {value}. Unset it to remove the limit.")
    return value


def _read_list(environ: Mapping[str, str], name: str) -> tuple[str, ...]:
    items = (item.strip() for item in environ.get(name, "").split(","))

    # dict.fromkeys drops repeats and keeps the order the owner wrote.
    return tuple(dict.fromkeys(item for item in items if item))


def _dollars(cents: int) -> str:
    return str(Money(amount=cents))


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _count(amount: int, noun: str) -> str:
    return f"{amount} {noun}" if amount == 1 else f"{amount} {noun}s"


class LimitError(Exception):
    """An order was rejected before reaching the provider because it would break a limit.

    `limit_name` is a stable id of the limit for code, and `message` is the text for the agent.
    """

    limit_name: str = "limit"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BudgetExceededError(LimitError):
    """The order would take the money held in the last 24 hours above the daily budget.

    `retry_at` is when enough earlier spending leaves the 24-hour window for this
    order to fit, or None when waiting alone will not make it fit.
    """

    limit_name = "daily_budget"

    def __init__(
        self,
        *,
        budget_cents: int,
        spent_cents: int,
        pending_cents: int,
        requested_cents: int,
        retry_at: datetime | None,
    ) -> None:
        self.budget_cents = budget_cents
        self.spent_cents = spent_cents
        self.pending_cents = pending_cents
        self.requested_cents = requested_cents
        self.retry_at = retry_at

        remaining = max(budget_cents - spent_cents - pending_cents, 0)
        parts = [
            f"The owner set a daily budget of {_dollars(budget_cents)} ({DAILY_BUDGET_ENV}={budget_cents}).",
            f"In the last 24 hours {_dollars(spent_cents)} is reserved or billed"
            f" and {_dollars(pending_cents)} is held by orders in progress,"
            f" so {_dollars(remaining)} is left and this order needs up to {_dollars(requested_cents)}.",
        ]
        if remaining > 0:
            parts.append(f"Order with max_price at most {remaining} cents,")
        else:
            parts.append("Cancel an activation that has no SMS yet to get its price refunded,")
        if retry_at is not None:
            parts.append(f"or try again after {_iso_utc(retry_at)}.")
        else:
            parts.append("or ask the owner to raise the budget.")
        super().__init__(" ".join(parts))


class PriceCapError(LimitError):
    """The lowest price on offer is above the owner's max price per number."""

    limit_name = "max_price"

    def __init__(self, *, cap_cents: int, price_cents: int) -> None:
        self.cap_cents = cap_cents
        self.price_cents = price_cents

        super().__init__(
            f"The owner capped the price of one number at {_dollars(cap_cents)}"
            f" ({MAX_PRICE_ENV}={cap_cents}), and this number costs {_dollars(price_cents)}."
            " Order with a lower quality_factor or in another country, or ask the owner to raise the cap."
        )


class TooManyActiveError(LimitError):
    """As many numbers as the owner allows are already waiting for their first SMS."""

    limit_name = "max_active"

    def __init__(self, *, max_active: int, waiting: int, pending: int) -> None:
        self.max_active = max_active
        self.waiting = waiting
        self.pending = pending

        super().__init__(
            f"The owner allows at most {_count(max_active, 'number')} waiting for an SMS at once"
            f" ({MAX_ACTIVE_ENV}={max_active}). Waiting now: {waiting}; being ordered: {pending}."
            " Use check_sms on those numbers, or cancel one you no longer need, before ordering another."
        )


class DuplicateOrderError(LimitError):
    """A number for the same country and service is still waiting for its first SMS.

    Ordering the same pair again while one waits is what lowers the account's SMS
    success rate, so this guard has no setting to turn it off.
    """

    limit_name = "duplicate_order"

    def __init__(
        self,
        *,
        activation_id: str,
        cancelable_after: datetime | None,
        country_id: str,
        service_id: str,
    ) -> None:
        self.activation_id = activation_id
        self.cancelable_after = cancelable_after
        self.country_id = country_id
        self.service_id = service_id

        if cancelable_after is None:
            cancel_hint = "It cannot be cancelled, so wait for its SMS or for it to expire."
        else:
            cancel_hint = (
                f"To order again, cancel it with cancel_activation, possible from {_iso_utc(cancelable_after)}."
            )
        super().__init__(
            f"Activation {activation_id} ({service_id} in {country_id}) is still waiting for its first SMS."
            f" Use check_sms on it to read the code when it arrives. {cancel_hint}"
        )


class OrderInProgressError(LimitError):
    """An order for the same country and service has not settled yet.

    Either another server process is placing it, or its outcome is unknown after a
    timeout. Ordering the pair again could rent a second number.
    """

    limit_name = "order_in_progress"

    def __init__(self, *, country_id: str, service_id: str, settles_by: datetime) -> None:
        self.country_id = country_id
        self.service_id = service_id
        self.settles_by = settles_by
        super().__init__(
            f"An order for {service_id} in {country_id} has not settled yet: another window is placing it, "
            f"or the provider did not confirm it. Do not order this pair again before {_iso_utc(settles_by)}; "
            "meanwhile call list_activations and get_balance to see whether it went through."
        )
