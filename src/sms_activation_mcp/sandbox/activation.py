"""One sandbox activation: its record, the statuses derived from it, and its wire form."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

ActivationStatus = Literal["active", "finalized", "expired", "canceled"]
SmsStatus = Literal["smsRequested", "smsReceived", "retryRequested", "retryReceived"]
BillingStatus = Literal["reserved", "released", "billed", "refunded"]


@dataclass(frozen=True)
class ReceivedSms:
    text: str
    code: str | None
    arrived_at: float
    after_retry: bool


@dataclass
class SandboxActivation:
    """The mutable record of one rented number; times are Unix seconds of the app's clock.

    `next_sms_at` is when the SMS that was asked for (at order or by a retry) arrives, and
    None while nothing is awaited. The wire statuses are derived from the record, so they
    can never disagree with it.
    """

    activation_id: str
    phone: str
    country_id: str
    service_id: str
    price: int
    created_at: float
    expire_at: float
    cancelable_after: float
    updated_at: float
    next_sms_at: float | None
    status: ActivationStatus = "active"
    messages: list[ReceivedSms] = field(default_factory=list)
    retry_requested: bool = False

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @property
    def has_sms(self) -> bool:
        return bool(self.messages)

    @property
    def reserved_cents(self) -> int:
        """Amount this activation reserves from the balance: its price until it is billed or refunded."""
        return self.price if self.is_active and not self.has_sms else 0

    @property
    def sms_status(self) -> SmsStatus:
        if self.retry_requested:
            return "retryRequested"
        if not self.messages:
            return "smsRequested"
        return "retryReceived" if self.messages[-1].after_retry else "smsReceived"

    @property
    def billing_status(self) -> BillingStatus:
        if self.has_sms:
            return "billed"
        return "reserved" if self.is_active else "refunded"

    @property
    def is_retriable(self) -> bool:
        return self.is_active and self.has_sms and not self.retry_requested

    @property
    def is_cancelable_later(self) -> bool:
        """Tell whether a cancel can still become allowed: active and no SMS yet."""
        return self.is_active and not self.has_sms

    def to_wire(self) -> dict[str, object]:
        """Render the activation as Platfone's JSON object."""
        latest = self.messages[-1] if self.messages else None
        # Rounded up, so that a client which waits until the advertised second is never rejected.
        cancelable_after = math.ceil(self.cancelable_after) if self.is_cancelable_later else None
        return {
            "activation_id": self.activation_id,
            "phone": self.phone,
            "country_id": self.country_id,
            "service_id": self.service_id,
            "price": self.price,
            "sms_status": self.sms_status,
            "activation_status": self.status,
            "billing_status": self.billing_status,
            "report_status": None,
            "sms_code": latest.code if latest else None,
            "sms_text": latest.text if latest else None,
            "expire_at": math.floor(self.expire_at),
            "created_at": math.floor(self.created_at),
            "updated_at": math.floor(self.updated_at),
            "is_retriable": self.is_retriable,
            "cancelable_after": cancelable_after,
        }
