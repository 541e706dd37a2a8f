"""get_balance and list_activations: the account and what this server has spent from it."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, ToolAnnotations
from pydantic import Field

from sms_activation_mcp import arguments
from sms_activation_mcp.models import Money
from sms_activation_mcp.results import ActivationList, BalanceResult, MoneyView, SpendView, respond
from sms_activation_mcp.runtime import Runtime
from sms_activation_mcp.tools.boundary import agent_tool
from sms_activation_mcp.views import activation_from_entry, activation_view

ActiveOnlyArg = Annotated[bool, Field(description="Only activations that are still active.")]
CountArg = Annotated[
    int,
    Field(
        description="Maximum number of activations to return, newest first (1 to 100).",
        json_schema_extra={"minimum": 1, "maximum": 100},
    ),
]


def _cents(amount: int | None) -> MoneyView | None:
    return None if amount is None else MoneyView.of(Money(amount=amount))


def register(app: MCPServer, runtime: Runtime) -> None:
    @agent_tool(
        app,
        runtime,
        title="Get balance",
        annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=True),
    )
    async def get_balance() -> Annotated[CallToolResult, BalanceResult]:
        """Show the account balance and what this server has spent against the owner's limits.

        The balance has a total, the part reserved by activations waiting for an SMS, and
        what is available for new orders. The spending covers the last 24 hours.
        """
        balance = await runtime.call("read the balance", runtime.provider.get_balance)
        spent = await runtime.in_ledger(lambda: runtime.ledger.spent_last_24h(datetime.now(timezone.utc)))

        budget = runtime.limits.daily_budget_cents
        limits = SpendView(
            spent_last_24h=MoneyView.of(Money(amount=spent.total_cents)),
            daily_budget=_cents(budget),
            budget_left=_cents(None if budget is None else max(0, budget - spent.total_cents)),
            max_price=_cents(runtime.limits.max_price_cents),
            max_active=runtime.limits.max_active,
        )
        result = BalanceResult(
            sandbox=runtime.sandbox,
            total=MoneyView.of(balance.total),
            reserved=MoneyView.of(balance.reserved),
            available=MoneyView.of(balance.available),
            limits=limits,
        )
        budget_text = f" Daily budget left: {limits.budget_left.display}." if limits.budget_left else ""
        text = (
            f"Balance {balance.total}, of which {balance.reserved} reserved; {balance.available} available. "
            f"Reserved or billed by this server's orders in the last 24 h: {limits.spent_last_24h.display}."
            f"{budget_text}"
        )
        return respond(result, text)

    @agent_tool(
        app,
        runtime,
        title="List activations",
        annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=True),
    )
    async def list_activations(
        active_only: ActiveOnlyArg = False, limit: CountArg = 20
    ) -> Annotated[CallToolResult, ActivationList]:
        """List the activations this server ordered, newest first, with what can be done with each now.

        The record survives restarts, so use it to find a number ordered earlier instead
        of ordering again. Active ones are refreshed from the provider.
        """
        count = arguments.integer_in_range("limit", limit, 1, 100) or 20
        ledger = await runtime.settled_ledger()
        entries = await runtime.in_ledger(lambda: ledger.list(active_only=active_only, limit=count))

        activations = [await runtime.refresh(activation_from_entry(entry)) for entry in entries]
        views = [activation_view(activation, sandbox=runtime.sandbox) for activation in activations]

        result = ActivationList(sandbox=runtime.sandbox, activations=views, returned=len(views))
        lines = [
            f"{view.activation_id} {view.phone} {view.country_id}/{view.service_id} {view.status}"
            f"{' code ' + view.sms_code if view.sms_code else ''}"
            for view in views
        ]
        return respond(result, "; ".join(lines) if lines else "No activations recorded yet.")
