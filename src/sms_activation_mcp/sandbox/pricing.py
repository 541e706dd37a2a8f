"""Seeded prices, quality and stock for every country and service pair of the sandbox."""

from __future__ import annotations

import random
from dataclasses import dataclass

from sms_activation_mcp.sandbox.catalog import is_virtual

# Cheapest base price in cents, and the factor the log-uniform draw spans above it (5..120c).
_BASE_MIN_CENTS = 5
_BASE_SPAN = 24.0
# Share of pairs that cost two or three times the drawn price, like popular services in rich countries.
_DEAR_SHARE = 0.12
_MAX_CENTS = 600
# Share of pairs with no numbers in stock, so NoNumbersAvailableException can be exercised.
_EMPTY_SHARE = 0.08
# The services people try first always have numbers, so a first order on the sandbox succeeds.
_ALWAYS_STOCKED = frozenset({"tg", "wa", "go", "fb", "ig", "tw", "other"})
_VIRTUAL_DISCOUNT = 0.5


@dataclass(frozen=True)
class Quote:
    """Price range in cents, average quality (0..100) and numbers in stock of one pair."""

    min: int
    max: int
    suggested: int
    quality: float
    stock: int


def quote_pair(seed: int, country_id: str, service_id: str) -> Quote:
    """Draw the quote of one pair; the same seed and pair always give the same quote."""
    rng = random.Random(f"quote/{seed}/{country_id}/{service_id}")

    low = round(_BASE_MIN_CENTS * _BASE_SPAN ** rng.random())
    if rng.random() < _DEAR_SHARE:
        low *= rng.choice((2, 3))
    if is_virtual(country_id):
        low = max(_BASE_MIN_CENTS, round(low * _VIRTUAL_DISCOUNT))
    high = min(_MAX_CENTS, max(low + 1, round(low * rng.uniform(1.4, 3.0))))

    quality = round(rng.uniform(55.0, 99.0), 1)
    if is_virtual(country_id):
        quality = round(quality * 0.85, 1)

    stock = rng.randint(1, 400)
    if rng.random() < _EMPTY_SHARE and service_id not in _ALWAYS_STOCKED:
        stock = 0
    suggested = price_at_quality(low, high, 50)
    return Quote(min=low, max=high, suggested=suggested, quality=quality, stock=stock)


def price_at_quality(low: int, high: int, quality_factor: int) -> int:
    """Pick the price for a quality factor: 0 is the minimum, 100 the maximum, linear between."""
    return low + round((high - low) * quality_factor / 100)
