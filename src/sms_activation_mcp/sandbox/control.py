"""Control routes under /sandbox, which tests and demos use to steer the sandbox.

They take the same X-Api-Key as the API, are not counted in the request stats, and are
never subject to fault rules.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sms_activation_mcp.sandbox.bodies import BalanceUpdate, ClockAdvance, SmsInjection, read_body
from sms_activation_mcp.sandbox.errors import SandboxError
from sms_activation_mcp.sandbox.faults import FaultRule
from sms_activation_mcp.sandbox.instance import SandboxInstance, instance_of

Handler = Callable[[SandboxInstance, Request], Awaitable[Response]]


def control_routes() -> list[Route]:
    return [
        _route("/activations/{activation_id}/sms", "POST", _inject_sms),
        _route("/clock/advance", "POST", _advance_clock),
        _route("/stats", "GET", _stats),
        _route("/reset", "POST", _reset),
        _route("/balance", "PUT", _set_balance),
        _route("/faults", "GET", _list_faults),
        _route("/faults", "PUT", _set_fault),
        _route("/faults", "DELETE", _clear_faults),
    ]


def _route(path: str, method: str, handler: Handler) -> Route:
    async def endpoint(request: Request) -> Response:
        sandbox = instance_of(request)
        try:
            sandbox.require_api_key(request)
            return await handler(sandbox, request)
        except SandboxError as error:
            return error.to_response()

    return Route(path, endpoint, methods=[method])


async def _inject_sms(sandbox: SandboxInstance, request: Request) -> Response:
    injection = await read_body(request, SmsInjection)
    activation = sandbox.account.inject_sms(
        request.path_params["activation_id"], sandbox.now(), injection.text, injection.code
    )
    return JSONResponse(activation.to_wire())


async def _advance_clock(sandbox: SandboxInstance, request: Request) -> Response:
    advance = await read_body(request, ClockAdvance)
    sandbox.advance_clock(advance.seconds)
    return JSONResponse({"now": math.floor(sandbox.now())})


async def _stats(sandbox: SandboxInstance, request: Request) -> Response:
    return JSONResponse(sandbox.request_counts())


async def _reset(sandbox: SandboxInstance, request: Request) -> Response:
    sandbox.reset()
    return JSONResponse({"result": "success"})


async def _set_balance(sandbox: SandboxInstance, request: Request) -> Response:
    update = await read_body(request, BalanceUpdate)
    now = sandbox.now()
    sandbox.account.set_total(update.total, now)
    total, reserved = sandbox.account.balance(now)
    return JSONResponse({"total": total, "reserved": reserved})


async def _list_faults(sandbox: SandboxInstance, request: Request) -> Response:
    return JSONResponse({"faults": sandbox.faults.describe()})


async def _set_fault(sandbox: SandboxInstance, request: Request) -> Response:
    rule = await read_body(request, FaultRule)
    sandbox.faults.set(rule)
    return JSONResponse({"faults": sandbox.faults.describe()})


async def _clear_faults(sandbox: SandboxInstance, request: Request) -> Response:
    sandbox.faults.clear()
    return JSONResponse({"faults": []})
