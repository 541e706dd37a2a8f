"""list_countries, list_services and check_price."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, ToolAnnotations

from sms_activation_mcp import arguments
from sms_activation_mcp.arguments import CountryArg, LimitArg, QueryArg, ServiceArg
from sms_activation_mcp.results import (
    CountryItem,
    CountryList,
    MoneyView,
    PriceResult,
    ServiceItem,
    ServiceList,
    respond,
)
from sms_activation_mcp.runtime import Runtime
from sms_activation_mcp.tools.boundary import agent_tool

ItemT = TypeVar("ItemT")

READ_ONLY = ToolAnnotations(read_only_hint=True, idempotent_hint=True, open_world_hint=True)


def _compact(pairs: list[tuple[str, str]], total: int) -> str:
    shown = "; ".join(f"{item_id} {name}" for item_id, name in pairs)
    more = f" ({total - len(pairs)} more: raise limit or give a query)" if total > len(pairs) else ""
    return f"{shown}{more}" if pairs else "Nothing matched."


async def _page(
    search: Callable[[str | None], Awaitable[list[ItemT]]], query: str | None, limit: int | None
) -> tuple[list[ItemT], int]:
    """Check the list arguments, search, and return the entries to show with the number that matched."""
    text = arguments.query(query)
    limit = arguments.integer_in_range("limit", limit, 1, arguments.MAX_LIST_LIMIT)
    matches = await search(text)
    return (matches[:limit] if limit else matches), len(matches)


def register(app: MCPServer, runtime: Runtime) -> None:
    @agent_tool(app, runtime, title="List countries", annotations=READ_ONLY)
    async def list_countries(query: QueryArg = None, limit: LimitArg = None) -> Annotated[CallToolResult, CountryList]:
        """List the countries numbers can be rented in, with their ids.

        Give `query` to search by name, ISO code or dialing code. Ids ending in _v are
        virtual-only numbers. order_number also accepts names, so listing is optional.
        """
        shown, total = await _page(runtime.search_countries, query, limit)

        items = [CountryItem(country_id=c.country_id, name=c.name, virtual_only=c.virtual_only) for c in shown]
        result = CountryList(sandbox=runtime.sandbox, countries=items, total=total, returned=len(items))
        return respond(result, _compact([(c.country_id, c.name) for c in shown], total))

    @agent_tool(app, runtime, title="List services", annotations=READ_ONLY)
    async def list_services(query: QueryArg = None, limit: LimitArg = None) -> Annotated[CallToolResult, ServiceList]:
        """List the services a number can receive SMS from, with their ids.

        Give `query` to search by name. The service `other` receives SMS from any
        service that is not listed. order_number also accepts names.
        """
        shown, total = await _page(runtime.search_services, query, limit)

        items = [ServiceItem(service_id=s.service_id, name=s.name, prohibited=s.prohibited) for s in shown]
        result = ServiceList(sandbox=runtime.sandbox, services=items, total=total, returned=len(items))
        return respond(result, _compact([(s.service_id, s.name) for s in shown], total))

    @agent_tool(app, runtime, title="Check price", annotations=READ_ONLY)
    async def check_price(country: CountryArg, service: ServiceArg) -> Annotated[CallToolResult, PriceResult]:
        """Show what a number for this country and service costs now and how many are in stock.

        Call it before order_number to choose a max_price. Prices are in US cents.
        """
        found_country = await runtime.resolve_country(arguments.name("country", country, list_tool="list_countries"))
        found_service = await runtime.resolve_service(arguments.name("service", service, list_tool="list_services"))
        price = await runtime.call(
            "check the price",
            lambda: runtime.provider.get_price(found_country.country_id, found_service.service_id),
        )

        result = PriceResult(
            sandbox=runtime.sandbox,
            country_id=found_country.country_id,
            country_name=found_country.name,
            service_id=found_service.service_id,
            service_name=found_service.name,
            suggested=MoneyView.of(price.suggested),
            min=MoneyView.of(price.min),
            max=MoneyView.of(price.max),
            available=price.available,
            quality=price.quality,
        )
        text = (
            f"{found_service.name} in {found_country.name}: {price.suggested} suggested "
            f"(range {price.min} to {price.max}), {price.available} numbers in stock."
        )
        return respond(result, text)
