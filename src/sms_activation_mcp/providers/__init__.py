"""Upstream providers behind one interface, and the errors they raise."""

from sms_activation_mcp.providers.base import Provider
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

__all__ = [
    "AccountOnHoldError",
    "ActionNotAllowedError",
    "ActivationNotFoundError",
    "AuthenticationError",
    "InsufficientBalanceError",
    "InvalidRequestError",
    "InvalidResponseError",
    "MaxPriceExceededError",
    "NoNumbersAvailableError",
    "Provider",
    "ProviderError",
    "RateLimitedError",
    "TooManyActivationsError",
    "UpstreamTimeoutError",
    "UpstreamUnavailableError",
]
