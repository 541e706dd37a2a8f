"""Settings of one sandbox app."""

from __future__ import annotations

from dataclasses import dataclass

from sms_activation_mcp.sandbox.faults import FaultRule


@dataclass(frozen=True)
class SandboxConfig:
    """Behaviour settings of one sandbox app, with durations in seconds and money in USD cents."""

    sms_delay_seconds: float = 8.0  # an SMS arrives this long after the order or a retry
    cancel_after_seconds: float = 30.0  # cancelable_after = created_at + this
    lifetime_seconds: float = 1200.0  # expire_at = created_at + this
    balance_cents: int = 1000  # starting balance
    required_api_key: str | None = None  # None accepts any non-empty X-Api-Key
    seed: int = 0  # makes phones, prices and codes reproducible
    faults: tuple[FaultRule, ...] = ()  # armed at start and again on every reset

    def __post_init__(self) -> None:
        for name in ("sms_delay_seconds", "cancel_after_seconds", "lifetime_seconds", "balance_cents"):
            if getattr(self, name) < 0:
                raise ValueError(f"SandboxConfig.{name} must not be negative, got {getattr(self, name)}")

    def __repr__(self) -> str:
        # The required key is a secret: show only whether one is set.
        key = "set" if self.required_api_key is not None else "None"
        return (
            f"SandboxConfig(sms_delay_seconds={self.sms_delay_seconds}, "
            f"cancel_after_seconds={self.cancel_after_seconds}, lifetime_seconds={self.lifetime_seconds}, "
            f"balance_cents={self.balance_cents}, required_api_key={key}, seed={self.seed}, "
            f"faults={len(self.faults)})"
        )
