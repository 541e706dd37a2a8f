"""Build tool results from domain models: what an agent can do next with an activation."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from sms_activation_mcp.models import Activation, ActivationStatus, BillingStatus, Money, SmsStatus
from sms_activation_mcp.results import ActivationView, CancelResult, MoneyView, iso_utc, seconds_until
from sms_activation_mcp.sms import clean_sms_text, extract_code

if TYPE_CHECKING:
    from sms_activation_mcp.ledger import LedgerEntry

RECOMMENDED_POLL_SECONDS = 10


def activation_view(activation: Activation, *, sandbox: bool, now: datetime | None = None) -> ActivationView:
    now = now or datetime.now(timezone.utc)
    active = activation.status is ActivationStatus.ACTIVE
    text = clean_sms_text(activation.sms_text) if activation.has_sms else None
    code = (activation.sms_code or extract_code(text)) if activation.has_sms else None

    can_retry = active and activation.has_sms and activation.is_retriable
    cancelable_after = activation.cancelable_after if active and not activation.has_sms else None
    can_cancel = cancelable_after is not None and now >= cancelable_after
    waiting = active and not activation.has_sms

    return ActivationView(
        sandbox=sandbox,
        activation_id=activation.activation_id,
        phone=activation.phone,
        country_id=activation.country_id,
        service_id=activation.service_id,
        price=MoneyView.of(activation.price),
        status=activation.status.value,
        sms_status=activation.sms_status.value,
        billing_status=activation.billing_status.value,
        sms_received=activation.has_sms,
        sms_code=code,
        sms_text=text,
        expires_at=iso_utc(activation.expires_at),
        expires_in_seconds=seconds_until(activation.expires_at, now) if active else 0,
        can_retry=can_retry,
        can_cancel=can_cancel,
        cancelable_at=iso_utc(cancelable_after) if cancelable_after else None,
        cancelable_in_seconds=seconds_until(cancelable_after, now) if cancelable_after else None,
        next_poll_seconds=RECOMMENDED_POLL_SECONDS if waiting else None,
        next_step=_next_step(activation, can_retry=can_retry, can_cancel=can_cancel, now=now),
    )


def _duration(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconds"
    return f"{seconds // 60} minutes"


def _next_step(activation: Activation, *, can_retry: bool, can_cancel: bool, now: datetime) -> str:
    if activation.status is ActivationStatus.CANCELED:
        return "Canceled; the reserved amount was refunded. Order a new number if you still need one."
    if activation.status is ActivationStatus.EXPIRED:
        return "Expired without an SMS; the reserved amount was refunded. Order a new number if you still need one."
    if activation.status is ActivationStatus.FINALIZED:
        return "Finished; the SMS above is final. Order a new number for another verification."

    if activation.has_sms:
        retry = (
            " If the code did not work, call retry_activation to ask for another SMS on the same number."
            if can_retry
            else ""
        )
        return f"The SMS has arrived: use sms_code.{retry}"

    expires = _duration(seconds_until(activation.expires_at, now))
    if can_cancel:
        cancel = " If no SMS is coming, cancel_activation refunds it now."
    elif activation.cancelable_after is not None:
        cancel = f" A cancel becomes possible in {seconds_until(activation.cancelable_after, now)} seconds."
    else:
        cancel = ""
    if activation.sms_status is SmsStatus.RETRY_REQUESTED:
        return (
            f"Waiting for another SMS on {activation.phone}. Call check_sms again in {RECOMMENDED_POLL_SECONDS} "
            f"seconds (or with wait_seconds). The number expires in about {expires}."
        )
    return (
        f"Waiting for the SMS. Enter {activation.phone} in the service, then call check_sms again in "
        f"{RECOMMENDED_POLL_SECONDS} seconds (or with wait_seconds). "
        f"The number expires in about {expires}.{cancel}"
    )


def cancel_result(activation: Activation, *, sandbox: bool) -> CancelResult:
    refunded = activation.billing_status in (BillingStatus.REFUNDED, BillingStatus.RELEASED)
    return CancelResult(
        sandbox=sandbox,
        activation_id=activation.activation_id,
        status=activation.status.value,
        billing_status=activation.billing_status.value,
        refunded=MoneyView.of(activation.price) if refunded else None,
        next_step="Canceled and refunded. Order a new number if you still need one."
        if activation.status is ActivationStatus.CANCELED
        else "Call check_sms to see the activation's state.",
    )


def activation_from_entry(entry: LedgerEntry) -> Activation:
    """Rebuild an activation from its ledger entry, which keeps no SMS text."""
    return Activation(
        activation_id=entry.activation_id,
        phone=entry.phone,
        country_id=entry.country_id,
        service_id=entry.service_id,
        price=Money(amount=entry.price_cents, currency=entry.currency),
        sms_status=entry.sms_status,
        status=entry.status,
        billing_status=entry.billing_status,
        sms_code=entry.sms_code,
        expires_at=entry.expires_at,
        created_at=entry.created_at,
        updated_at=entry.updated_at,
        is_retriable=entry.is_retriable,
        cancelable_after=entry.cancelable_after,
    )
