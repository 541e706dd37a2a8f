"""The activation ledger: a SQLite file that records every number the server ordered.

Several server processes may share one file, so every method opens its own
connection and every write takes the database write lock at BEGIN (BEGIN
IMMEDIATE). The limit checks and the insert of an order's hold therefore run
against one state that no other process can change in between. A connection is
never shared because the server calls these methods from worker threads.

An order is recorded in two steps. `begin_order` checks the owner's limits and
stores a hold for the most the order may cost, then `complete_order` replaces
the hold with the activation or `abandon_order` drops it. A hold counts against
the limits while the upstream call runs, so two processes cannot both spend the
last of a budget.
"""

from __future__ import annotations

import builtins
import logging
import sqlite3
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

from platformdirs import user_data_dir

from sms_activation_mcp.limits import (
    BudgetExceededError,
    DuplicateOrderError,
    OrderInProgressError,
    SpendLimits,
    TooManyActiveError,
)
from sms_activation_mcp.models import Activation, ActivationStatus, BillingStatus, SmsStatus

logger = logging.getLogger(__name__)

APP_NAME = "sms-activation-mcp"
LEDGER_FILE_NAME = "ledger.sqlite3"
SANDBOX_LEDGER_FILE_NAME = "ledger-sandbox.sqlite3"
SCHEMA_VERSION = 1

# How long a call waits for another process's write lock before sqlite3 raises
# OperationalError("database is locked"). Writes here last milliseconds.
BUSY_TIMEOUT_SECONDS = 10.0

# An order's upstream call finishes in seconds, so a hold this old belongs to a
# process that died between begin_order and complete_order, and no longer counts.
STALE_HOLD_AGE = timedelta(minutes=2)

SPEND_WINDOW = timedelta(hours=24)
_WINDOW_SECONDS = int(SPEND_WINDOW.total_seconds())
_STALE_HOLD_SECONDS = int(STALE_HOLD_AGE.total_seconds())

# SQL conditions on the activations table. Each takes one parameter: the start
# of the spend window, or the current time, in Unix seconds.
_CHARGED_IN_WINDOW = (
    f"billing_status IN ('{BillingStatus.RESERVED.value}', '{BillingStatus.BILLED.value}') AND created_at > ?"
)
# An activation past its expiry time is over even before a poll records it as expired.
_WAITING_FOR_FIRST_SMS = (
    f"status = '{ActivationStatus.ACTIVE.value}' AND sms_status = '{SmsStatus.REQUESTED.value}' AND expires_at > ?"
)

_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS activations (
        activation_id TEXT PRIMARY KEY,
        phone TEXT NOT NULL,
        country_id TEXT NOT NULL,
        service_id TEXT NOT NULL,
        price_cents INTEGER NOT NULL,
        currency TEXT NOT NULL,
        sms_status TEXT NOT NULL,
        status TEXT NOT NULL,
        billing_status TEXT NOT NULL,
        sms_code TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL,
        cancelable_after INTEGER,
        is_retriable INTEGER NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS activations_by_created_at ON activations (created_at)",
    "CREATE INDEX IF NOT EXISTS activations_by_status ON activations (status, sms_status)",
    """
    CREATE TABLE IF NOT EXISTS pending_orders (
        hold_id INTEGER PRIMARY KEY AUTOINCREMENT,
        country_id TEXT NOT NULL,
        service_id TEXT NOT NULL,
        hold_cents INTEGER NOT NULL,
        created_at INTEGER NOT NULL
    )
    """,
)

_ACTIVATION_COLUMNS = (
    "activation_id",
    "phone",
    "country_id",
    "service_id",
    "price_cents",
    "currency",
    "sms_status",
    "status",
    "billing_status",
    "sms_code",
    "created_at",
    "updated_at",
    "expires_at",
    "cancelable_after",
    "is_retriable",
)

# An update never moves created_at, which places the activation in the spend
# window. It is skipped when it is older than the stored row, or when it would
# turn a finished activation active again: two processes may poll the same
# activation and store their results out of order.
_UPDATED_COLUMNS = [column for column in _ACTIVATION_COLUMNS if column not in ("activation_id", "created_at")]
_UPSERT_ACTIVATION = f"""
    INSERT INTO activations ({", ".join(_ACTIVATION_COLUMNS)})
    VALUES ({", ".join(":" + column for column in _ACTIVATION_COLUMNS)})
    ON CONFLICT (activation_id) DO UPDATE SET
        {", ".join(f"{column} = excluded.{column}" for column in _UPDATED_COLUMNS)}
    WHERE excluded.updated_at >= activations.updated_at
        AND NOT (activations.status <> '{ActivationStatus.ACTIVE.value}'
                 AND excluded.status = '{ActivationStatus.ACTIVE.value}')
"""


def default_data_dir() -> Path:
    """Return the per-user data folder of this application (not created here)."""
    return Path(user_data_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True)
class PendingOrder:
    """A hold on the owner's limits for one order whose upstream call is in progress."""

    hold_id: int
    country_id: str
    service_id: str
    hold_cents: int
    created_at: datetime


@dataclass(frozen=True)
class LedgerEntry:
    """One activation as last recorded. Times are aware UTC datetimes."""

    activation_id: str
    phone: str
    country_id: str
    service_id: str
    price_cents: int
    currency: str
    sms_status: SmsStatus
    status: ActivationStatus
    billing_status: BillingStatus
    sms_code: str | None
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    cancelable_after: datetime | None
    is_retriable: bool


@dataclass(frozen=True)
class SpendSummary:
    """Money taken by orders in the last 24 hours, in cents.

    `count` is the number of activations whose price is reserved or billed. The
    pending part is held by orders still in progress.
    """

    reserved_cents: int
    billed_cents: int
    pending_cents: int
    count: int

    @property
    def total_cents(self) -> int:
        return self.reserved_cents + self.billed_cents + self.pending_cents


class Ledger:
    """The activation ledger stored in one SQLite file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._create_schema()

    @classmethod
    def open(cls, data_dir: Path, *, sandbox: bool) -> Ledger:
        """Open the ledger in `data_dir`. Sandbox activations get a file of their own,
        so play never counts against a real budget or shows among real activations."""
        file_name = SANDBOX_LEDGER_FILE_NAME if sandbox else LEDGER_FILE_NAME
        return cls(data_dir / file_name)

    def __repr__(self) -> str:
        return f"Ledger(path={str(self.path)!r})"

    def begin_order(
        self,
        *,
        country_id: str,
        service_id: str,
        hold_cents: int,
        limits: SpendLimits,
        now: datetime,
    ) -> PendingOrder:
        """Check the owner's limits for a new order and store a hold of `hold_cents` for it.

        Raises DuplicateOrderError, TooManyActiveError or BudgetExceededError, and
        stores nothing then. `hold_cents` is the most the order may cost, which is the
        max_price sent upstream: the budget check has no other figure until
        complete_order stores the real price.
        """
        if hold_cents < 0:
            raise ValueError(f"hold_cents must not be negative, got {hold_cents}")
        now_seconds = _to_seconds(now)

        with self._transaction("IMMEDIATE") as connection:
            self._drop_stale_holds(connection, now_seconds)

            _check_duplicate(connection, country_id, service_id, now_seconds)
            _check_max_active(connection, limits, now_seconds)
            _check_budget(connection, limits, hold_cents, now_seconds)

            cursor = connection.execute(
                "INSERT INTO pending_orders (country_id, service_id, hold_cents, created_at) VALUES (?, ?, ?, ?)",
                (country_id, service_id, hold_cents, now_seconds),
            )
            hold_id = cursor.lastrowid

        assert hold_id is not None
        return PendingOrder(
            hold_id=hold_id,
            country_id=country_id,
            service_id=service_id,
            hold_cents=hold_cents,
            created_at=now,
        )

    def complete_order(self, pending: PendingOrder, activation: Activation) -> None:
        """Replace the order's hold with the activation the provider returned."""
        with self._transaction("IMMEDIATE") as connection:
            connection.execute("DELETE FROM pending_orders WHERE hold_id = ?", (pending.hold_id,))
            connection.execute(_UPSERT_ACTIVATION, _activation_params(activation))

    def abandon_order(self, pending: PendingOrder) -> None:
        """Drop the hold of an order whose upstream call failed."""
        with self._transaction("IMMEDIATE") as connection:
            connection.execute("DELETE FROM pending_orders WHERE hold_id = ?", (pending.hold_id,))

    def record(self, activation: Activation) -> None:
        """Insert the activation, or update the stored one unless that is newer or finished."""
        with self._transaction("IMMEDIATE") as connection:
            connection.execute(_UPSERT_ACTIVATION, _activation_params(activation))

    def get(self, activation_id: str) -> LedgerEntry | None:
        entries = self._select("activation_id = ?", (activation_id,), limit=1)
        return entries[0] if entries else None

    def active(self) -> builtins.list[LedgerEntry]:
        """Return the activations last recorded as active, oldest first, to check at start."""
        return self._select("status = ?", (ActivationStatus.ACTIVE.value,), oldest_first=True)

    def spent_last_24h(self, now: datetime) -> SpendSummary:
        """Sum what counts against the daily budget at `now`."""
        now_seconds = _to_seconds(now)

        with self._transaction("DEFERRED") as connection:
            by_billing = _charged_by_billing(connection, now_seconds)
            pending_cents, _ = _live_holds(connection, now_seconds)

        reserved_cents, reserved_count = by_billing.get(BillingStatus.RESERVED.value, (0, 0))
        billed_cents, billed_count = by_billing.get(BillingStatus.BILLED.value, (0, 0))
        return SpendSummary(
            reserved_cents=reserved_cents,
            billed_cents=billed_cents,
            pending_cents=pending_cents,
            count=reserved_count + billed_count,
        )

    def list(
        self,
        *,
        active_only: bool = False,
        since: datetime | None = None,
        limit: int = 50,
    ) -> builtins.list[LedgerEntry]:
        """Return up to `limit` activations, newest first, created at or after `since`."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")

        conditions: builtins.list[str] = []
        params: builtins.list[object] = []
        if active_only:
            conditions.append("status = ?")
            params.append(ActivationStatus.ACTIVE.value)
        if since is not None:
            conditions.append("created_at >= ?")
            params.append(_to_seconds(since))

        return self._select(" AND ".join(conditions) or "1", tuple(params), limit=limit)

    def _select(
        self,
        where: str,
        params: tuple[object, ...],
        *,
        limit: int | None = None,
        oldest_first: bool = False,
    ) -> builtins.list[LedgerEntry]:
        direction = "ASC" if oldest_first else "DESC"
        query = f"SELECT * FROM activations WHERE {where} ORDER BY created_at {direction}, activation_id {direction}"
        if limit is not None:
            query += f" LIMIT {int(limit)}"

        with self._connect() as connection:
            rows = connection.execute(query, params).fetchall()
        return [_entry_from_row(row) for row in rows]

    def _drop_stale_holds(self, connection: sqlite3.Connection, now_seconds: int) -> None:
        cutoff = now_seconds - _STALE_HOLD_SECONDS
        cursor = connection.execute("DELETE FROM pending_orders WHERE created_at < ?", (cutoff,))
        if cursor.rowcount > 0:
            logger.warning(
                "dropped %d order holds older than %d s in %s, left by a process that stopped mid-order",
                cursor.rowcount,
                _STALE_HOLD_SECONDS,
                self.path.name,
            )

    def _create_schema(self) -> None:
        with self._connect() as connection:
            # WAL lets other processes read while one writes. The mode is stored in
            # the file, and a file system without shared memory support keeps the old one.
            journal_mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if journal_mode != "wal":
            logger.warning("ledger %s runs in journal mode %s instead of wal", self.path.name, journal_mode)

        with self._transaction("IMMEDIATE") as connection:
            version = connection.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"The ledger {self.path.name} has schema version {version}, but this version of"
                    f" {APP_NAME} reads only up to {SCHEMA_VERSION}. Upgrade {APP_NAME}"
                    " or point it at another data folder."
                )

            for statement in _SCHEMA:
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # isolation_level=None stops the sqlite3 module from opening transactions
        # on its own, so _transaction decides how each one begins.
        connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        connection.row_factory = sqlite3.Row
        # In WAL mode NORMAL keeps the file consistent and loses no commit when the process
        # dies; only a power loss can drop the last commits. FULL costs a disk sync per write.
        connection.execute("PRAGMA synchronous = NORMAL")
        try:
            yield connection
        finally:
            connection.close()

    @contextmanager
    def _transaction(self, mode: Literal["DEFERRED", "IMMEDIATE"]) -> Iterator[sqlite3.Connection]:
        with self._connect() as connection:
            connection.execute(f"BEGIN {mode}")
            try:
                yield connection
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")


def _check_duplicate(connection: sqlite3.Connection, country_id: str, service_id: str, now_seconds: int) -> None:
    held = connection.execute(
        "SELECT MIN(created_at) FROM pending_orders WHERE country_id = ? AND service_id = ? AND created_at >= ?",
        (country_id, service_id, now_seconds - _STALE_HOLD_SECONDS),
    ).fetchone()[0]
    if held is not None:
        # Another process is ordering this pair, or an earlier order's outcome is unknown.
        raise OrderInProgressError(
            country_id=country_id, service_id=service_id, settles_by=_from_seconds(held + _STALE_HOLD_SECONDS)
        )

    row = connection.execute(
        f"""
        SELECT activation_id, cancelable_after FROM activations
        WHERE country_id = ? AND service_id = ? AND {_WAITING_FOR_FIRST_SMS}
        ORDER BY created_at DESC LIMIT 1
        """,
        (country_id, service_id, now_seconds),
    ).fetchone()
    if row is None:
        return

    raise DuplicateOrderError(
        activation_id=row["activation_id"],
        cancelable_after=_from_optional_seconds(row["cancelable_after"]),
        country_id=country_id,
        service_id=service_id,
    )


def _check_max_active(connection: sqlite3.Connection, limits: SpendLimits, now_seconds: int) -> None:
    waiting = connection.execute(
        f"SELECT COUNT(*) FROM activations WHERE {_WAITING_FOR_FIRST_SMS}", (now_seconds,)
    ).fetchone()[0]
    _, pending = _live_holds(connection, now_seconds)

    if waiting + pending >= limits.max_active:
        raise TooManyActiveError(max_active=limits.max_active, waiting=waiting, pending=pending)


def _check_budget(connection: sqlite3.Connection, limits: SpendLimits, hold_cents: int, now_seconds: int) -> None:
    budget = limits.daily_budget_cents
    if budget is None:
        return

    # NOTE: prices in every currency are added up as if they were USD cents. That
    # is correct while Platfone, which prices in USD cents, is the only provider.
    spent = sum(cents for cents, _ in _charged_by_billing(connection, now_seconds).values())
    pending, _ = _live_holds(connection, now_seconds)
    if spent + pending + hold_cents <= budget:
        return

    raise BudgetExceededError(
        budget_cents=budget,
        spent_cents=spent,
        pending_cents=pending,
        requested_cents=hold_cents,
        retry_at=_budget_frees_at(connection, spent + pending + hold_cents - budget, now_seconds),
    )


def _budget_frees_at(connection: sqlite3.Connection, excess_cents: int, now_seconds: int) -> datetime | None:
    """Return when enough of the oldest charges leave the spend window to cover `excess_cents`."""
    rows = connection.execute(
        f"""
        SELECT price_cents, created_at FROM activations
        WHERE {_CHARGED_IN_WINDOW}
        ORDER BY created_at
        """,
        (now_seconds - _WINDOW_SECONDS,),
    ).fetchall()

    freed = 0
    for row in rows:
        freed += row["price_cents"]
        if freed >= excess_cents:
            return _from_seconds(row["created_at"] + _WINDOW_SECONDS)

    # The holds of orders in progress and this order alone exceed the budget.
    return None


def _charged_by_billing(connection: sqlite3.Connection, now_seconds: int) -> Mapping[str, tuple[int, int]]:
    """Return cents and count per billing status of the charged activations in the spend window."""
    rows = connection.execute(
        f"""
        SELECT billing_status, SUM(price_cents) AS cents, COUNT(*) AS count FROM activations
        WHERE {_CHARGED_IN_WINDOW}
        GROUP BY billing_status
        """,
        (now_seconds - _WINDOW_SECONDS,),
    ).fetchall()
    return {row["billing_status"]: (row["cents"], row["count"]) for row in rows}


def _live_holds(connection: sqlite3.Connection, now_seconds: int) -> tuple[int, int]:
    """Return the cents and the number of holds that are not stale."""
    row = connection.execute(
        "SELECT COALESCE(SUM(hold_cents), 0), COUNT(*) FROM pending_orders WHERE created_at >= ?",
        (now_seconds - _STALE_HOLD_SECONDS,),
    ).fetchone()
    return row[0], row[1]


def _activation_params(activation: Activation) -> dict[str, object]:
    return {
        "activation_id": activation.activation_id,
        "phone": activation.phone,
        "country_id": activation.country_id,
        "service_id": activation.service_id,
        "price_cents": activation.price.amount,
        "currency": activation.price.currency,
        "sms_status": activation.sms_status.value,
        "status": activation.status.value,
        "billing_status": activation.billing_status.value,
        "sms_code": activation.sms_code,
        "created_at": _to_seconds(activation.created_at),
        "updated_at": _to_seconds(activation.updated_at),
        "expires_at": _to_seconds(activation.expires_at),
        "cancelable_after": _to_optional_seconds(activation.cancelable_after),
        "is_retriable": int(activation.is_retriable),
    }


def _entry_from_row(row: sqlite3.Row) -> LedgerEntry:
    return LedgerEntry(
        activation_id=row["activation_id"],
        phone=row["phone"],
        country_id=row["country_id"],
        service_id=row["service_id"],
        price_cents=row["price_cents"],
        currency=row["currency"],
        sms_status=SmsStatus(row["sms_status"]),
        status=ActivationStatus(row["status"]),
        billing_status=BillingStatus(row["billing_status"]),
        sms_code=row["sms_code"],
        created_at=_from_seconds(row["created_at"]),
        updated_at=_from_seconds(row["updated_at"]),
        expires_at=_from_seconds(row["expires_at"]),
        cancelable_after=_from_optional_seconds(row["cancelable_after"]),
        is_retriable=bool(row["is_retriable"]),
    )


def _to_seconds(moment: datetime) -> int:
    """Convert an aware datetime to whole Unix seconds, the unit the ledger stores."""
    if moment.tzinfo is None:
        raise ValueError(f"expected a timezone-aware datetime, got {moment.isoformat()} without a timezone")
    return int(moment.timestamp())


def _to_optional_seconds(moment: datetime | None) -> int | None:
    return None if moment is None else _to_seconds(moment)


def _from_seconds(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def _from_optional_seconds(seconds: int | None) -> datetime | None:
    return None if seconds is None else _from_seconds(seconds)
