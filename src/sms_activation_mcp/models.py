"""The project's own data types, shared by every provider and the server.

Providers translate their wire formats into these, so no code above the provider
layer depends on upstream field names, status strings or units.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class Money(BaseModel):
    """An amount in integer minor units (cents for USD)."""

    model_config = ConfigDict(frozen=True)

    amount: int
    currency: str = "USD"

    def __str__(self) -> str:
        sign = "-" if self.amount < 0 else ""
        whole, cents = divmod(abs(self.amount), 100)
        symbol = "$" if self.currency == "USD" else f"{self.currency} "
        return f"{sign}{symbol}{whole}.{cents:02d}"


class Country(BaseModel):
    """A country numbers can be rented in; a `virtual_only` one rents non-SIM numbers."""

    model_config = ConfigDict(frozen=True)

    country_id: str
    name: str
    alt_name: str = ""
    dialing_codes: tuple[str, ...] = ()
    virtual_only: bool = False


class Service(BaseModel):
    """A service whose verification SMS a number can receive."""

    model_config = ConfigDict(frozen=True)

    service_id: str
    name: str
    alt_name: str = ""
    prohibited: bool = False
    has_warning: bool = False


class Price(BaseModel):
    """The current price range and stock of one country and service pair."""

    country_id: str
    service_id: str
    min: Money
    max: Money
    suggested: Money
    available: int
    quality: float | None = Field(default=None, description="Average quality score reported upstream.")


class Balance(BaseModel):
    """The account balance: `total` includes the `reserved` part held by open activations."""

    total: Money
    reserved: Money

    @property
    def available(self) -> Money:
        return Money(amount=self.total.amount - self.reserved.amount, currency=self.total.currency)


class SmsStatus(str, Enum):
    REQUESTED = "sms_requested"
    RECEIVED = "sms_received"
    RETRY_REQUESTED = "retry_requested"
    RETRY_RECEIVED = "retry_received"


class ActivationStatus(str, Enum):
    ACTIVE = "active"
    FINALIZED = "finalized"
    EXPIRED = "expired"
    CANCELED = "canceled"


class BillingStatus(str, Enum):
    RESERVED = "reserved"
    RELEASED = "released"
    BILLED = "billed"
    REFUNDED = "refunded"


class Activation(BaseModel):
    """One rented number and what has happened to it.

    `phone` is in E.164 form (with the leading +). `cancelable_after` is None when
    the provider will never allow a cancel.
    """

    activation_id: str
    phone: str
    country_id: str
    service_id: str
    price: Money
    sms_status: SmsStatus
    status: ActivationStatus
    billing_status: BillingStatus
    sms_code: str | None = None
    sms_text: str | None = None
    expires_at: datetime
    created_at: datetime
    updated_at: datetime
    is_retriable: bool = False
    cancelable_after: datetime | None = None

    @property
    def has_sms(self) -> bool:
        return self.sms_status in (SmsStatus.RECEIVED, SmsStatus.RETRY_RECEIVED)


ItemT = TypeVar("ItemT", Country, Service)


class CatalogFetch(BaseModel, Generic[ItemT]):
    """One fetch of a catalog list; `items` is None when the server reports it unchanged (304)."""

    items: list[ItemT] | None
    etag: str | None = None
