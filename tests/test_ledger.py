from __future__ import annotations

import logging
import multiprocessing
import sqlite3
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from sms_activation_mcp.ledger import (
    LEDGER_FILE_NAME,
    SANDBOX_LEDGER_FILE_NAME,
    SCHEMA_VERSION,
    STALE_HOLD_AGE,
    Ledger,
    PendingOrder,
    default_data_dir,
)
from sms_activation_mcp.limits import (
    BudgetExceededError,
    DuplicateOrderError,
    LimitError,
    OrderInProgressError,
    SpendLimits,
    TooManyActiveError,
)
from sms_activation_mcp.models import Activation, ActivationStatus, BillingStatus, Money, SmsStatus

NOW = datetime(2025, 1, 15, 12, 0, tzinfo=timezone.utc)
NO_LIMITS = SpendLimits(max_active=1000)


def make_activation(
    activation_id: str,
    *,
    country_id: str = "us",
    service_id: str = "tg",
    price: int = 35,
    created_at: datetime = NOW,
    **changes: Any,
) -> Activation:
    activation = Activation(
        activation_id=activation_id,
        phone="+447700900123",
        country_id=country_id,
        service_id=service_id,
        price=Money(amount=price),
        sms_status=SmsStatus.REQUESTED,
        status=ActivationStatus.ACTIVE,
        billing_status=BillingStatus.RESERVED,
        expires_at=created_at + timedelta(minutes=20),
        created_at=created_at,
        updated_at=created_at,
        cancelable_after=created_at + timedelta(minutes=2),
    )
    return activation.model_copy(update=changes)


def begin(
    ledger: Ledger, limits: SpendLimits, *, hold: int = 40, service_id: str = "tg", now: datetime = NOW
) -> PendingOrder:
    return ledger.begin_order(country_id="us", service_id=service_id, hold_cents=hold, limits=limits, now=now)


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    return Ledger(tmp_path / "ledger.sqlite3")


def test_schema_created_in_new_folder(tmp_path: Path) -> None:
    path = tmp_path / "a folder" / "nested" / "ledger.sqlite3"

    Ledger(path)

    assert path.is_file()
    with sqlite3.connect(path) as connection:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        journal_mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
        version = connection.execute("PRAGMA user_version").fetchone()[0]
    assert {"activations", "pending_orders"} <= tables
    assert journal_mode == "wal"
    assert version == SCHEMA_VERSION


def test_reopen_keeps_records(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    Ledger(path).record(make_activation("a1"))

    reopened = Ledger(path)

    entry = reopened.get("a1")
    assert entry is not None
    assert entry.price_cents == 35


def test_newer_schema_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with sqlite3.connect(path) as connection:
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")

    with pytest.raises(RuntimeError, match="schema version 2"):
        Ledger(path)


def test_open_separates_sandbox_file(tmp_path: Path) -> None:
    real = Ledger.open(tmp_path, sandbox=False)
    sandbox = Ledger.open(tmp_path, sandbox=True)

    sandbox.record(make_activation("play", price=90))

    assert real.path == tmp_path / LEDGER_FILE_NAME
    assert sandbox.path == tmp_path / SANDBOX_LEDGER_FILE_NAME
    assert real.get("play") is None
    assert real.list() == []
    assert real.spent_last_24h(NOW).total_cents == 0
    assert sandbox.spent_last_24h(NOW).reserved_cents == 90
    begin(real, SpendLimits(daily_budget_cents=100), hold=40, service_id="other")


def test_default_data_dir_is_per_app() -> None:
    path = default_data_dir()

    assert path.is_absolute()
    assert "sms-activation-mcp" in path.parts


def test_order_complete_record_lifecycle(ledger: Ledger) -> None:
    pending = begin(ledger, SpendLimits(), hold=50)
    assert ledger.spent_last_24h(NOW).pending_cents == 50

    ledger.complete_order(pending, make_activation("a1", price=35))

    summary = ledger.spent_last_24h(NOW)
    assert summary.pending_cents == 0
    assert summary.reserved_cents == 35
    assert summary.count == 1

    later = NOW + timedelta(seconds=40)
    ledger.record(
        make_activation(
            "a1",
            sms_status=SmsStatus.RECEIVED,
            billing_status=BillingStatus.BILLED,
            sms_code="123456",
            is_retriable=True,
            updated_at=later,
        )
    )

    entry = ledger.get("a1")
    assert entry is not None
    assert entry.phone == "+447700900123"
    assert entry.country_id == "us"
    assert entry.service_id == "tg"
    assert entry.currency == "USD"
    assert entry.sms_status is SmsStatus.RECEIVED
    assert entry.status is ActivationStatus.ACTIVE
    assert entry.billing_status is BillingStatus.BILLED
    assert entry.sms_code == "123456"
    assert entry.is_retriable is True
    assert entry.created_at == NOW
    assert entry.updated_at == later
    assert entry.expires_at == NOW + timedelta(minutes=20)
    assert entry.cancelable_after == NOW + timedelta(minutes=2)
    assert entry.created_at.tzinfo is not None
    assert ledger.spent_last_24h(NOW).billed_cents == 35
    assert [e.activation_id for e in ledger.list()] == ["a1"]


def test_get_unknown_returns_none(ledger: Ledger) -> None:
    assert ledger.get("missing") is None


def test_record_ignores_older_update(ledger: Ledger) -> None:
    received = make_activation(
        "a1", sms_status=SmsStatus.RECEIVED, sms_code="111", updated_at=NOW + timedelta(seconds=30)
    )
    ledger.record(received)

    ledger.record(make_activation("a1", updated_at=NOW + timedelta(seconds=10)))

    entry = ledger.get("a1")
    assert entry is not None
    assert entry.sms_status is SmsStatus.RECEIVED
    assert entry.sms_code == "111"


def test_record_never_reopens_finished(ledger: Ledger) -> None:
    canceled = make_activation("a1", status=ActivationStatus.CANCELED, billing_status=BillingStatus.REFUNDED)
    ledger.record(canceled)

    ledger.record(make_activation("a1"))

    entry = ledger.get("a1")
    assert entry is not None
    assert entry.status is ActivationStatus.CANCELED
    assert entry.billing_status is BillingStatus.REFUNDED


def test_record_keeps_created_at(ledger: Ledger) -> None:
    ledger.record(make_activation("a1"))

    ledger.record(make_activation("a1", created_at=NOW + timedelta(hours=1)))

    entry = ledger.get("a1")
    assert entry is not None
    assert entry.created_at == NOW
    assert entry.expires_at == NOW + timedelta(hours=1, minutes=20)


def test_budget_rejection_reports_figures(ledger: Ledger) -> None:
    ledger.record(make_activation("old", service_id="s1", price=40, created_at=NOW - timedelta(hours=25)))
    ledger.record(
        make_activation("refunded", service_id="s2", price=50, billing_status=BillingStatus.REFUNDED)
    )
    ledger.record(make_activation("billed", service_id="s3", price=30, created_at=NOW - timedelta(hours=3)))
    ledger.record(make_activation("reserved", service_id="s4", price=25, created_at=NOW - timedelta(hours=1)))
    begin(ledger, NO_LIMITS, hold=20, service_id="s5")
    limits = SpendLimits(daily_budget_cents=100, max_active=1000)

    with pytest.raises(BudgetExceededError) as caught:
        begin(ledger, limits, hold=30, service_id="s6")

    error = caught.value
    assert error.budget_cents == 100
    assert error.spent_cents == 55
    assert error.pending_cents == 20
    assert error.requested_cents == 30
    assert error.retry_at == NOW - timedelta(hours=3) + timedelta(hours=24)
    assert "SMS_MCP_DAILY_BUDGET_CENTS=100" in error.message
    assert "max_price at most 25 cents" in error.message
    assert ledger.spent_last_24h(NOW).pending_cents == 20


def test_budget_allows_exact_fit(ledger: Ledger) -> None:
    ledger.record(make_activation("billed", service_id="s1", price=60, billing_status=BillingStatus.BILLED))
    limits = SpendLimits(daily_budget_cents=100)

    pending = begin(ledger, limits, hold=40)

    assert pending.hold_cents == 40
    assert ledger.spent_last_24h(NOW).total_cents == 100


def test_budget_order_larger_than_budget(ledger: Ledger) -> None:
    with pytest.raises(BudgetExceededError) as caught:
        begin(ledger, SpendLimits(daily_budget_cents=30), hold=40)

    assert caught.value.retry_at is None
    assert caught.value.spent_cents == 0


def test_budget_counts_only_last_24h(ledger: Ledger) -> None:
    ledger.record(make_activation("a1", price=80, created_at=NOW - timedelta(hours=24)))
    ledger.record(make_activation("a2", service_id="s2", price=80, created_at=NOW - timedelta(hours=23)))
    limits = SpendLimits(daily_budget_cents=100)

    with pytest.raises(BudgetExceededError):
        begin(ledger, limits, hold=40, service_id="s3")

    pending = begin(ledger, limits, hold=40, service_id="s3", now=NOW + timedelta(hours=1))
    assert pending.hold_cents == 40


def test_max_active_rejection(ledger: Ledger) -> None:
    ledger.record(make_activation("w1", service_id="s1"))
    ledger.record(make_activation("w2", service_id="s2"))
    ledger.record(make_activation("with-sms", service_id="s3", sms_status=SmsStatus.RECEIVED))
    ledger.record(make_activation("canceled", service_id="s4", status=ActivationStatus.CANCELED))
    ledger.record(make_activation("lapsed", service_id="s5", created_at=NOW - timedelta(hours=1)))
    begin(ledger, NO_LIMITS, service_id="s6")

    with pytest.raises(TooManyActiveError) as caught:
        begin(ledger, SpendLimits(max_active=3), service_id="s7")

    assert caught.value.waiting == 2
    assert caught.value.pending == 1
    assert caught.value.max_active == 3
    assert begin(ledger, SpendLimits(max_active=4), service_id="s7").service_id == "s7"


def test_duplicate_rejection_names_activation(ledger: Ledger) -> None:
    ledger.record(make_activation("first", country_id="us", service_id="tg"))

    with pytest.raises(DuplicateOrderError) as caught:
        begin(ledger, NO_LIMITS, service_id="tg")

    assert caught.value.activation_id == "first"
    assert caught.value.cancelable_after == NOW + timedelta(minutes=2)
    assert "first" in caught.value.message
    assert begin(ledger, NO_LIMITS, service_id="wa").service_id == "wa"


def test_duplicate_allowed_after_sms(ledger: Ledger) -> None:
    ledger.record(
        make_activation("first", sms_status=SmsStatus.RECEIVED, billing_status=BillingStatus.BILLED)
    )

    pending = begin(ledger, NO_LIMITS, service_id="tg")

    assert pending.country_id == "us"


def test_rejection_stores_no_hold(ledger: Ledger) -> None:
    ledger.record(make_activation("first"))

    with pytest.raises(LimitError):
        begin(ledger, NO_LIMITS, service_id="tg")

    assert ledger.spent_last_24h(NOW).pending_cents == 0


def test_abandon_frees_hold(ledger: Ledger) -> None:
    limits = SpendLimits(max_active=1, daily_budget_cents=50)
    pending = begin(ledger, limits, hold=40)
    with pytest.raises(TooManyActiveError):
        begin(ledger, limits, hold=40, service_id="wa")

    ledger.abandon_order(pending)

    assert ledger.spent_last_24h(NOW).pending_cents == 0
    assert begin(ledger, limits, hold=40, service_id="wa").hold_cents == 40


def test_stale_holds_ignored(ledger: Ledger, caplog: pytest.LogCaptureFixture) -> None:
    limits = SpendLimits(max_active=1, daily_budget_cents=50)
    stale = begin(ledger, limits, hold=40)
    later = NOW + timedelta(minutes=3)

    assert ledger.spent_last_24h(later).pending_cents == 0
    with caplog.at_level(logging.WARNING, logger="sms_activation_mcp.ledger"):
        fresh = begin(ledger, limits, hold=40, now=later)

    assert fresh.hold_id != stale.hold_id
    assert ledger.spent_last_24h(later).pending_cents == 40
    assert "dropped 1 order holds" in caplog.text


def test_complete_after_stale_hold_records(ledger: Ledger) -> None:
    pending = begin(ledger, SpendLimits())
    begin(ledger, SpendLimits(), service_id="wa", now=NOW + timedelta(minutes=3))

    ledger.complete_order(pending, make_activation("late"))

    assert ledger.get("late") is not None


def test_list_filters_and_orders(ledger: Ledger) -> None:
    for index in range(5):
        ledger.record(
            make_activation(f"a{index}", service_id=f"s{index}", created_at=NOW + timedelta(minutes=index))
        )
    ledger.record(
        make_activation(
            "done", service_id="s9", created_at=NOW + timedelta(minutes=9), status=ActivationStatus.FINALIZED
        )
    )

    assert [e.activation_id for e in ledger.list()] == ["done", "a4", "a3", "a2", "a1", "a0"]
    assert [e.activation_id for e in ledger.list(limit=2)] == ["done", "a4"]
    assert [e.activation_id for e in ledger.list(active_only=True, limit=2)] == ["a4", "a3"]
    assert [e.activation_id for e in ledger.list(since=NOW + timedelta(minutes=3))] == ["done", "a4", "a3"]
    assert [e.activation_id for e in ledger.active()] == ["a0", "a1", "a2", "a3", "a4"]


def test_list_rejects_zero_limit(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="limit must be at least 1"):
        ledger.list(limit=0)


def test_naive_datetime_rejected(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="timezone"):
        begin(ledger, SpendLimits(), now=datetime(2025, 1, 15, 12, 0))


def test_negative_hold_rejected(ledger: Ledger) -> None:
    with pytest.raises(ValueError, match="hold_cents"):
        begin(ledger, SpendLimits(), hold=-1)


def test_parallel_threads_respect_budget(ledger: Ledger) -> None:
    limits = SpendLimits(daily_budget_cents=100, max_active=1000)
    barrier = threading.Barrier(20)
    accepted: list[PendingOrder] = []
    rejections: list[LimitError] = []
    lock = threading.Lock()

    def order(index: int) -> None:
        barrier.wait()
        try:
            pending = begin(ledger, limits, hold=40, service_id=f"s{index}")
        except LimitError as error:
            with lock:
                rejections.append(error)
        else:
            with lock:
                accepted.append(pending)

    threads = [threading.Thread(target=order, args=(index,)) for index in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(accepted) == 2
    assert len(rejections) == 18
    assert all(isinstance(error, BudgetExceededError) for error in rejections)
    assert ledger.spent_last_24h(NOW).pending_cents == 80


def order_in_process(path: Path, worker: int, attempts: int, barrier: Any, results: Any) -> None:
    """Try `attempts` orders against a shared ledger, completing every other one as an activation."""
    ledger = Ledger(path)
    limits = SpendLimits(daily_budget_cents=300, max_active=1000)
    barrier.wait()

    successes = 0
    for attempt in range(attempts):
        service_id = f"s{worker}-{attempt}"
        try:
            pending = begin(ledger, limits, hold=40, service_id=service_id)
        except BudgetExceededError:
            continue

        successes += 1
        if attempt % 2:
            ledger.complete_order(
                pending, make_activation(f"{worker}-{attempt}", service_id=service_id, price=40)
            )
    results.put(successes)


def test_processes_share_budget(tmp_path: Path) -> None:
    path = tmp_path / "shared" / "ledger.sqlite3"
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(4)
    results = context.Queue()
    processes = [
        context.Process(target=order_in_process, args=(path, worker, 5, barrier, results))
        for worker in range(4)
    ]

    for process in processes:
        process.start()
    successes = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=60)

    assert all(process.exitcode == 0 for process in processes)
    assert sum(successes) * 40 <= 300
    assert sum(successes) == 7
    assert Ledger(path).spent_last_24h(NOW).total_cents == 280


def test_pending_hold_blocks_same_pair(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    ledger.begin_order(country_id="us", service_id="tg", hold_cents=10, limits=SpendLimits(), now=now)

    with pytest.raises(OrderInProgressError) as refused:
        ledger.begin_order(country_id="us", service_id="tg", hold_cents=10, limits=SpendLimits(), now=now)

    assert refused.value.settles_by == now + STALE_HOLD_AGE
    ledger.begin_order(country_id="gb", service_id="tg", hold_cents=10, limits=SpendLimits(), now=now)
