from __future__ import annotations

from datetime import datetime, timezone

import pytest

from sms_activation_mcp.limits import (
    DEFAULT_MAX_ACTIVE,
    BudgetExceededError,
    DuplicateOrderError,
    LimitError,
    PriceCapError,
    SpendLimits,
    TooManyActiveError,
)

NOW = datetime(2025, 1, 15, 12, 0, tzinfo=timezone.utc)


def test_from_env_without_variables_has_no_limits() -> None:
    limits = SpendLimits.from_env({})

    assert limits.max_price_cents is None
    assert limits.daily_budget_cents is None
    assert limits.max_active == DEFAULT_MAX_ACTIVE
    assert limits.allowed_countries == ()
    assert limits.allowed_services == ()


def test_from_env_reads_every_variable() -> None:
    limits = SpendLimits.from_env(
        {
            "SMS_MCP_MAX_PRICE_CENTS": "50",
            "SMS_MCP_DAILY_BUDGET_CENTS": " 500 ",
            "SMS_MCP_MAX_ACTIVE": "2",
            "SMS_MCP_ALLOWED_COUNTRIES": "United Kingdom, us ,,us",
            "SMS_MCP_ALLOWED_SERVICES": "tg",
            "UNRELATED": "x",
        }
    )

    assert limits.max_price_cents == 50
    assert limits.daily_budget_cents == 500
    assert limits.max_active == 2
    assert limits.allowed_countries == ("United Kingdom", "us")
    assert limits.allowed_services == ("tg",)


def test_from_env_empty_values_count_as_unset() -> None:
    environ = {
        "SMS_MCP_MAX_PRICE_CENTS": "",
        "SMS_MCP_DAILY_BUDGET_CENTS": "  ",
        "SMS_MCP_MAX_ACTIVE": "",
        "SMS_MCP_ALLOWED_COUNTRIES": " , ",
        "SMS_MCP_ALLOWED_SERVICES": "",
    }

    assert SpendLimits.from_env(environ) == SpendLimits()


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("SMS_MCP_MAX_PRICE_CENTS", "abc", "must be a whole number, got 'abc'"),
        ("SMS_MCP_MAX_PRICE_CENTS", "0.5", "must be a whole number, got '0.5'"),
        ("SMS_MCP_MAX_PRICE_CENTS", "0", "must be at least 1, got 0"),
        ("SMS_MCP_DAILY_BUDGET_CENTS", "-100", "must be at least 1, got -100"),
        ("SMS_MCP_DAILY_BUDGET_CENTS", "$5", "must be a whole number"),
        ("SMS_MCP_MAX_ACTIVE", "0", "must be at least 1, got 0"),
        ("SMS_MCP_MAX_ACTIVE", "three", "must be a whole number"),
    ],
)
def test_from_env_bad_value_names_variable(name: str, value: str, expected: str) -> None:
    with pytest.raises(ValueError) as caught:
        SpendLimits.from_env({name: value})

    assert str(caught.value).startswith(name)
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("cap", "requested", "expected"),
    [
        (None, None, None),
        (None, 70, 70),
        (50, None, 50),
        (50, 70, 50),
        (50, 30, 30),
        (50, 50, 50),
    ],
)
def test_effective_max_price(cap: int | None, requested: int | None, expected: int | None) -> None:
    limits = SpendLimits(max_price_cents=cap)

    assert limits.effective_max_price(requested) == expected


def test_budget_error_suggests_lower_max_price() -> None:
    error = BudgetExceededError(
        budget_cents=100, spent_cents=55, pending_cents=20, requested_cents=40, retry_at=NOW
    )

    assert isinstance(error, LimitError)
    assert error.limit_name == "daily_budget"
    assert "SMS_MCP_DAILY_BUDGET_CENTS=100" in error.message
    assert "$1.00" in error.message
    assert "$0.55 is reserved or billed" in error.message
    assert "$0.20 is held" in error.message
    assert "$0.25 is left" in error.message
    assert "max_price at most 25 cents" in error.message
    assert "after 2025-01-15T12:00:00Z" in error.message
    assert str(error) == error.message


def test_budget_error_without_room_suggests_cancel() -> None:
    error = BudgetExceededError(
        budget_cents=100, spent_cents=100, pending_cents=0, requested_cents=40, retry_at=None
    )

    assert "$0.00 is left" in error.message
    assert "max_price" not in error.message
    assert "Cancel an activation" in error.message
    assert "ask the owner to raise the budget" in error.message


def test_price_cap_error_message() -> None:
    error = PriceCapError(cap_cents=30, price_cents=45)

    assert error.limit_name == "max_price"
    assert "SMS_MCP_MAX_PRICE_CENTS=30" in error.message
    assert "$0.45" in error.message


def test_too_many_active_error_message() -> None:
    error = TooManyActiveError(max_active=3, waiting=2, pending=1)

    assert error.limit_name == "max_active"
    assert "SMS_MCP_MAX_ACTIVE=3" in error.message
    assert "Waiting now: 2; being ordered: 1." in error.message
    assert "cancel" in error.message


def test_duplicate_error_names_activation() -> None:
    error = DuplicateOrderError(activation_id="act-7", cancelable_after=NOW, country_id="us", service_id="tg")

    assert error.limit_name == "duplicate_order"
    assert error.activation_id == "act-7"
    assert "Activation act-7 (tg in us)" in error.message
    assert "possible from 2025-01-15T12:00:00Z" in error.message


def test_duplicate_error_never_cancelable() -> None:
    error = DuplicateOrderError(
        activation_id="act-7", cancelable_after=None, country_id="us", service_id="tg"
    )

    assert "cannot be cancelled" in error.message
    assert "cancel_activation" not in error.message
