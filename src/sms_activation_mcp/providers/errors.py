"""One exception family for every way an upstream call can fail.

Messages are written for the person or agent reading them and never contain the
API key or a raw response body longer than a short excerpt.
"""

from __future__ import annotations

from datetime import datetime

from sms_activation_mcp.models import Money


class ProviderError(Exception):
    """An upstream call failed. `status_code` is the HTTP status, when there was one."""

    def __init__(self, message: str, *, status_code: int | None = None, error_name: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.error_name = error_name

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code!r}, message={self.message!r})"


class AuthenticationError(ProviderError):
    """The API key was rejected (401)."""


class InsufficientBalanceError(ProviderError):
    """The account balance does not cover the order (402)."""


class AccountOnHoldError(ProviderError):
    """The account is on hold (403)."""


class ActivationNotFoundError(ProviderError):
    """No activation has this id on this account (404)."""


class MaxPriceExceededError(ProviderError):
    """The current price is above the order's max price (409).

    Ordering again with `max_price >= suggested_price.amount` and this `order_id`
    gets the number the refusal quoted.
    """

    def __init__(self, message: str, *, suggested_price: Money, order_id: str | None, **kwargs: object) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.suggested_price = suggested_price
        self.order_id = order_id


class NoNumbersAvailableError(ProviderError):
    """No number is in stock for this country and service."""


class TooManyActivationsError(ProviderError):
    """The account has as many open activations as the provider allows."""


class ActionNotAllowedError(ProviderError):
    """A retry or cancel was rejected in the activation's current state."""


class InvalidRequestError(ProviderError):
    """The provider rejected the request's parameters (400, 422 and other 4xx)."""


class RateLimitedError(ProviderError):
    """Too many requests, or the account is blocked for a while (429)."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        blocked_until: datetime | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(message, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after
        self.blocked_until = blocked_until


class UpstreamUnavailableError(ProviderError):
    """The provider returned a 5xx status or the connection failed."""


class UpstreamTimeoutError(ProviderError):
    """The provider did not respond in time."""


class InvalidResponseError(ProviderError):
    """The provider's response was not JSON or did not have the expected shape."""
