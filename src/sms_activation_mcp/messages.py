"""Agent-facing failure messages: what happened, then what to do next."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver.exceptions import ToolError

from sms_activation_mcp.models import Money
from sms_activation_mcp.providers import errors

if TYPE_CHECKING:
    from sms_activation_mcp.resolver import Ambiguous, Candidate, NotFound


class AgentError(ToolError):
    """A tool failure with a stable `code` and the details an agent can act on without parsing text.

    The tool boundary returns it as an error result whose structured content is
    `{"error": {"code": ..., "message": ..., **details}}`.
    """

    def __init__(self, message: str, *, code: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details


def _candidates(candidates: tuple[Candidate, ...]) -> list[dict[str, str]]:
    return [{"id": candidate.id, "name": candidate.name} for candidate in candidates]


def _listing(candidates: tuple[Candidate, ...]) -> str:
    return ", ".join(f"{candidate.name} ({candidate.id})" for candidate in candidates)


def unresolved_name(kind: str, result: Ambiguous | NotFound, *, list_tool: str) -> AgentError:
    """Explain an ambiguous or unknown country or service name."""
    from sms_activation_mcp.resolver import Ambiguous

    query = result.query if len(result.query) <= 60 else result.query[:57] + "..."
    if isinstance(result, Ambiguous):
        return AgentError(
            f'{kind.capitalize()} "{query}" matches several entries: {_listing(result.candidates)}. '
            f"Nothing was ordered; call again with one of these ids.",
            code="ambiguous_name",
            argument=kind,
            candidates=_candidates(result.candidates),
        )

    hint = f" Closest matches: {_listing(result.suggestions)}." if result.suggestions else ""
    other = (
        ' A service that is not listed can use "other", which receives SMS from any sender.'
        if kind == "service"
        else ""
    )
    return AgentError(
        f'Unknown {kind} "{query}".{hint}{other} Call {list_tool} with a query to search.',
        code="unknown_name",
        argument=kind,
        candidates=_candidates(result.suggestions),
    )


def _blocked_until(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return f" until {moment.astimezone(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}"


def provider_failure(error: errors.ProviderError, *, action: str, activation_id: str | None = None) -> AgentError:
    """Turn a provider error into a tool error for `action` ("order", "check", "retry", "cancel", ...)."""
    subject = f"activation {activation_id}" if activation_id else "the request"

    if isinstance(error, errors.AuthenticationError):
        return AgentError(
            "The provider rejected the API key. The server's owner must check PLATFONE_API_KEY "
            "(or unset it to use the sandbox).",
            code="authentication_failed",
        )
    if isinstance(error, errors.InsufficientBalanceError):
        return AgentError(
            "The account balance does not cover this number. Call get_balance, then top up the account "
            "or pick a cheaper country or quality_factor (check_price shows prices).",
            code="insufficient_balance",
        )
    if isinstance(error, errors.AccountOnHoldError):
        return AgentError(
            "The provider has put the account on hold. The account owner must contact the provider.",
            code="account_on_hold",
        )
    if isinstance(error, errors.ActivationNotFoundError):
        return AgentError(
            f"No activation {activation_id} exists on this account. Use the activation_id that order_number returned.",
            code="activation_not_found",
            activation_id=activation_id,
        )
    if isinstance(error, errors.MaxPriceExceededError):
        return max_price_exceeded(error.suggested_price, error.order_id)
    if isinstance(error, errors.NoNumbersAvailableError):
        return AgentError(
            "No numbers are in stock for this country and service right now. Try another country "
            "(check_price shows stock) or try again in a few minutes.",
            code="no_numbers_available",
        )
    if isinstance(error, errors.TooManyActivationsError):
        return AgentError(
            "The account has too many open activations. Finish them (check_sms) or cancel the ones "
            "you no longer need (cancel_activation), then order again.",
            code="too_many_activations",
        )
    if isinstance(error, errors.ActionNotAllowedError):
        return AgentError(
            f"The provider rejected the {action} of {subject}: {error.message} Call check_sms to see its state.",
            code="action_not_allowed",
            activation_id=activation_id,
        )
    if isinstance(error, errors.RateLimitedError):
        wait = f" Wait {round(error.retry_after)} seconds before calling again." if error.retry_after else ""
        blocked = _blocked_until(error.blocked_until)
        return AgentError(
            f"The provider is limiting requests{blocked}.{wait or ' Wait a minute before calling again.'}",
            code="rate_limited",
            retry_after_seconds=error.retry_after,
            blocked_until=error.blocked_until.isoformat() if error.blocked_until else None,
        )
    if isinstance(error, errors.InvalidRequestError):
        return AgentError(f"The provider rejected the request: {error.message}", code="invalid_request")

    # Unavailable, timed out or garbled: a change that was sent may or may not have taken effect.
    if action == "order":
        return AgentError(
            f"The provider did not confirm the order ({error.message}), so it may or may not have been placed. "
            "Do not order again at once: wait a minute, then call get_balance. A reserved amount that grew by "
            "about the price means the number was rented, and this server could not record it.",
            code="outcome_unknown",
        )
    if action in ("retry", "cancel"):
        return AgentError(
            f"The provider did not confirm the {action} ({error.message}), so it may or may not have taken "
            "effect. Call check_sms to see the activation's state.",
            code="outcome_unknown",
            activation_id=activation_id,
        )
    return AgentError(
        f"The provider is unavailable ({error.message}). Nothing changed; try again in a minute.",
        code="provider_unavailable",
    )


def max_price_exceeded(suggested: Money, order_id: str | None) -> AgentError:
    retry = f" and order_id={order_id!r}" if order_id else ""
    return AgentError(
        f"The current price is {suggested}, above max_price. Nothing was ordered. To accept it, call "
        f"order_number again with the same country and service, max_price={suggested.amount}{retry}.",
        code="max_price_exceeded",
        suggested_price_cents=suggested.amount,
        order_id=order_id,
    )
