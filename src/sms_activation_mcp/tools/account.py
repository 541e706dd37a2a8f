"""get_balance."""

from typing import Annotated

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, ToolAnnotations

from sms_activation_mcp.results import BalanceResult, MoneyView, respond
from sms_activation_mcp.runtime import Runtime


def register(app: MCPServer, runtime: Runtime) -> None:
    @app.tool(
        title="Get balance",
        annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=True),
    )
    async def get_balance() -> Annotated[CallToolResult, BalanceResult]:
        """Show the account balance: the total, the part reserved by activations waiting for an SMS, and what is available for new orders."""
        balance = await runtime.call("read the balance", runtime.provider.get_balance)
        result = BalanceResult(
            sandbox=runtime.sandbox,
            total=MoneyView.of(balance.total),
            reserved=MoneyView.of(balance.reserved),
            available=MoneyView.of(balance.available),
        )
        return respond(result, f"Balance {balance.total}, of which {balance.reserved} reserved; {balance.available} available.")
