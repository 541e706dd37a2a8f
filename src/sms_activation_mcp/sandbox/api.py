"""The Platfone Activation API routes, served under /api/v1."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sms_activation_mcp.sandbox.bodies import OrderRequest, read_body
from sms_activation_mcp.sandbox.catalog import CatalogList, CountryEntry, ServiceEntry
from sms_activation_mcp.sandbox.errors import SandboxError
from sms_activation_mcp.sandbox.faults import RouteName, respond_with_fault
from sms_activation_mcp.sandbox.instance import SandboxInstance, instance_of

logger = logging.getLogger("sms_activation_mcp.sandbox")

Handler = Callable[[SandboxInstance, Request], Awaitable[Response]]

_SUCCESS = {"result": "success"}


def api_routes() -> list[Route]:
    # The catalog paths come before /activation/{activation_id}, which would match them too.
    return [
        _route("/user/balance", "GET", "balance", _balance),
        _route("/activation/countries", "GET", "countries", _countries),
        _route("/activation/services", "GET", "services", _services),
        _route("/activation/prices/services/{service_id}/countries/{country_id}", "GET", "price", _price),
        _route("/activation", "POST", "order", _order),
        _route("/activation/{activation_id}", "GET", "get_activation", _get_activation),
        _route("/activation/{activation_id}/retry", "PUT", "retry", _retry),
        _route("/activation/{activation_id}/cancel", "PUT", "cancel", _cancel),
    ]


def _route(path: str, method: str, name: RouteName, handler: Handler) -> Route:
    """Wrap a handler with the request count, the key check and the route's fault rule."""

    async def endpoint(request: Request) -> Response:
        sandbox = instance_of(request)
        sandbox.count_request(name)
        try:
            sandbox.require_api_key(request)
        except SandboxError as error:
            return error.to_response()

        async def handle() -> Response:
            try:
                return await handler(sandbox, request)
            except SandboxError as error:
                logger.info("rejected %s request: %d %s", name, error.status_code, error.error_name)
                return error.to_response()

        rule = sandbox.faults.take(name)
        if rule is not None:
            # Read the body now: a delay fault may outlast the client, and the request still counts
            # as received, as on a real server that got the whole request before stalling.
            await request.body()
        return await respond_with_fault(rule, name, handle)

    return Route(path, endpoint, methods=[method], name=name)


async def _balance(sandbox: SandboxInstance, request: Request) -> Response:
    total, reserved = sandbox.account.balance(sandbox.now())
    return JSONResponse({"total": total, "reserved": reserved})


async def _countries(sandbox: SandboxInstance, request: Request) -> Response:
    return _catalog_response(sandbox.catalog.countries, request)


async def _services(sandbox: SandboxInstance, request: Request) -> Response:
    return _catalog_response(sandbox.catalog.services, request)


def _catalog_response(
    catalog_list: CatalogList[CountryEntry] | CatalogList[ServiceEntry], request: Request
) -> Response:
    headers = {"X-ETag": catalog_list.etag, "ETag": catalog_list.etag}
    if catalog_list.matches_etag(request.headers.get("if-none-match")):
        return Response(status_code=304, headers=headers)
    return Response(catalog_list.body, headers=headers, media_type="application/json")


async def _price(sandbox: SandboxInstance, request: Request) -> Response:
    quote = sandbox.account.quote(request.path_params["country_id"], request.path_params["service_id"])
    return JSONResponse(
        {
            "price": {"min": quote.min, "max": quote.max, "suggested": quote.suggested},
            "quality": {"avg": quote.quality},
            "count": quote.stock,
        }
    )


async def _order(sandbox: SandboxInstance, request: Request) -> Response:
    order = await read_body(request, OrderRequest)
    activation = sandbox.account.order(order, sandbox.now())
    return JSONResponse(activation.to_wire())


async def _get_activation(sandbox: SandboxInstance, request: Request) -> Response:
    activation = sandbox.account.get(request.path_params["activation_id"], sandbox.now())
    return JSONResponse(activation.to_wire())


async def _retry(sandbox: SandboxInstance, request: Request) -> Response:
    sandbox.account.request_retry(request.path_params["activation_id"], sandbox.now())
    return JSONResponse(_SUCCESS)


async def _cancel(sandbox: SandboxInstance, request: Request) -> Response:
    sandbox.account.cancel(request.path_params["activation_id"], sandbox.now())
    return JSONResponse(_SUCCESS)
