"""When and how long to wait before sending a failed read-only request again.

Only requests that change nothing upstream may go through `RetryPolicy.run`. An order
sent twice could rent (and pay for) two numbers, so the provider never retries writes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from random import random as uniform_fraction
from typing import TypeVar

from sms_activation_mcp.providers.errors import (
    ProviderError,
    RateLimitedError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)

T = TypeVar("T")

# Statuses that mean "overloaded or restarting, try again". Others, such as 501, will not change on a resend.
RETRYABLE_STATUS_CODES = frozenset({500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded by attempts and by an overall deadline.

    All durations are in seconds. `max_attempts` counts the first request too. A 429 whose
    Retry-After is above `max_retry_after` is raised at once instead of waited out. `sleep`,
    `random` and `clock` are injectable so that tests run without waiting.
    """

    max_attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 30.0
    deadline: float = 30.0
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False, compare=False)
    random: Callable[[], float] = field(default=uniform_fraction, repr=False, compare=False)
    clock: Callable[[], float] = field(default=time.monotonic, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        for name in ("base_delay", "max_delay", "max_retry_after"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")
        if self.deadline <= 0:
            raise ValueError(f"deadline must be positive, got {self.deadline}")

    def backoff(self, attempt: int) -> float:
        """Pick a random wait after failed attempt number `attempt` (1-based), below the capped exponential delay."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return self.random() * ceiling

    async def run(self, send: Callable[[float], Awaitable[T]], *, route: str, logger: logging.Logger) -> T:
        """Call `send` until it succeeds or the policy gives up. Return its result or raise its last error.

        `send` receives the seconds left before the deadline, so that it can shorten its own
        timeout. Errors that a resend cannot fix are raised at once.
        """
        started = self.clock()
        attempt = 1
        while True:
            remaining = self.deadline - (self.clock() - started)
            try:
                return await send(remaining)
            except ProviderError as error:
                delay = self._delay_before_retry(error, attempt, started, route=route, logger=logger)
                if delay is None:
                    raise

                logger.warning(
                    "retrying %s in %.2f s (attempt %d of %d) because: %s",
                    route,
                    delay,
                    attempt + 1,
                    self.max_attempts,
                    error.message,
                )
                await self.sleep(delay)
                attempt += 1

    def _delay_before_retry(
        self, error: ProviderError, attempt: int, started: float, *, route: str, logger: logging.Logger
    ) -> float | None:
        """Return the seconds to wait before the next attempt, or None to raise `error` now."""
        if not is_retryable(error):
            return None

        if attempt >= self.max_attempts:
            logger.warning("giving up on %s after %d attempts", route, attempt)
            return None

        retry_after = error.retry_after if isinstance(error, RateLimitedError) else None
        if retry_after is not None and retry_after > self.max_retry_after:
            logger.warning(
                "giving up on %s: Retry-After is %.0f s, above the %.0f s limit",
                route,
                retry_after,
                self.max_retry_after,
            )
            return None
        delay = retry_after if retry_after is not None else self.backoff(attempt)

        # No attempt may start after the deadline, so a wait that would cross it ends the retries.
        if self.clock() - started + delay >= self.deadline:
            logger.warning(
                "giving up on %s: waiting %.2f s more would pass the %.0f s deadline",
                route,
                delay,
                self.deadline,
            )
            return None
        return delay


def is_retryable(error: ProviderError) -> bool:
    """Tell whether sending the same read-only request again may succeed."""
    if isinstance(error, RateLimitedError):
        # A blocked account stays blocked until the time it names, far beyond any retry budget.
        return error.blocked_until is None
    if isinstance(error, UpstreamTimeoutError):
        return True
    if isinstance(error, UpstreamUnavailableError):
        # No status code means the connection failed before any response arrived.
        return error.status_code is None or error.status_code in RETRYABLE_STATUS_CODES
    return False
