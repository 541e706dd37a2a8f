"""Faults the sandbox injects on purpose, per route, so clients can be tested against them.

A rule applies to the next requests of its route (or of every route, with `*`): it can
delay the response, replace it by an error status, garble the body, or drop the
connection. Without `after_effect` the request is not carried out. With it, the request
is carried out first and the client still sees the fault, as when a response is lost after
the upstream acted.

`drop_connection` sends the response start and then raises ConnectionDropped. A real HTTP
server (uvicorn) then closes the socket, and the client sees a protocol error with no
body. Under httpx.ASGITransport the exception reaches the test, or, with
`raise_app_exceptions=False`, the client sees a 500 with an empty body.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send
from typing_extensions import Self

from sms_activation_mcp.sandbox.errors import error_document

logger = logging.getLogger("sms_activation_mcp.sandbox")

RouteName = Literal["get_activation", "order", "cancel", "retry", "balance", "countries", "services", "price"]
ROUTE_NAMES: tuple[RouteName, ...] = (
    "balance",
    "countries",
    "services",
    "price",
    "order",
    "get_activation",
    "retry",
    "cancel",
)
BodyFault = Literal["not_json", "truncated", "empty", "wrong_shape"]

_DEFAULT_ERROR_NAMES = {
    400: "BadRequestException",
    401: "UnauthorizedException",
    402: "NotEnoughFundsException",
    403: "AccountOnHoldException",
    404: "ActivationNotFoundException",
    429: "TooManyRequestsException",
    500: "InternalServerErrorException",
    502: "BadGatewayException",
    503: "ServiceUnavailableException",
    504: "GatewayTimeoutException",
}
_NOT_JSON_BODY = b"<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>"
_WRONG_SHAPE_BODY = {"sandbox_fault": "wrong_shape"}
# The length announced for a dropped response, so the client knows the body was cut short.
_DROPPED_CONTENT_LENGTH = 128


class FaultRule(BaseModel):
    """A fault to inject on the requests of one route. With `times` None it stays until cleared."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    route: RouteName | Literal["*"]
    status: int | None = Field(default=None, ge=200, le=599)
    error_name: str | None = Field(default=None, min_length=1, max_length=100)
    retry_after: int | None = Field(default=None, ge=0)
    delay_seconds: float = Field(default=0.0, ge=0, le=300, allow_inf_nan=False)
    body: BodyFault | None = None
    drop_connection: bool = False
    times: int | None = Field(default=None, ge=1)
    after_effect: bool = False

    @model_validator(mode="after")
    def _check_effects(self) -> Self:
        if not self.replaces_response and self.delay_seconds == 0:
            raise ValueError("a fault rule needs status, body, drop_connection or delay_seconds")
        if self.status is None and (self.error_name is not None or self.retry_after is not None):
            raise ValueError("error_name and retry_after need a status")
        if self.drop_connection and (self.status is not None or self.body is not None):
            raise ValueError("drop_connection sends no status or body, so it excludes both")
        return self

    @property
    def replaces_response(self) -> bool:
        return self.status is not None or self.body is not None or self.drop_connection


@dataclass
class _ArmedRule:
    rule: FaultRule
    remaining: int | None


class FaultBook:
    """The fault rules in force, at most one per route name plus one for `*`."""

    def __init__(self, rules: Iterable[FaultRule] = ()) -> None:
        self._armed: dict[str, _ArmedRule] = {}
        for rule in rules:
            self.set(rule)

    def set(self, rule: FaultRule) -> None:
        """Arm a rule, replacing the one its route had."""
        self._armed[rule.route] = _ArmedRule(rule, rule.times)

    def clear(self) -> None:
        self._armed.clear()

    def take(self, route: RouteName) -> FaultRule | None:
        """Return the rule that applies to this request, if any, and count it against `times`."""
        key = route if route in self._armed else "*"
        armed = self._armed.get(key)
        if armed is None:
            return None

        if armed.remaining is not None:
            armed.remaining -= 1
            if armed.remaining == 0:
                del self._armed[key]
        logger.info("injecting fault on %s: %s", route, _summarize(armed.rule))
        return armed.rule

    def describe(self) -> list[dict[str, object]]:
        """List the armed rules as JSON objects, with how many requests each still affects."""
        return [
            {**armed.rule.model_dump(exclude_defaults=True), "remaining": armed.remaining}
            for armed in self._armed.values()
        ]


async def respond_with_fault(
    rule: FaultRule | None, route: RouteName, handle: Callable[[], Awaitable[Response]]
) -> Response:
    """Run `handle` for the request, with the rule's fault before or after it."""
    if rule is None:
        return await handle()

    if not rule.after_effect:
        await asyncio.sleep(rule.delay_seconds)
        if not rule.replaces_response:
            return await handle()
        return _fault_response(rule, route, None)

    real = await handle()
    await asyncio.sleep(rule.delay_seconds)
    if not rule.replaces_response:
        return real
    return _fault_response(rule, route, real)


class ConnectionDropped(Exception):
    """Raised on purpose after the response start, so that the HTTP server closes the connection."""


class DroppedConnectionResponse(Response):
    """A response that sends its start line and headers, then fails instead of sending the body."""

    def __init__(self, route: RouteName) -> None:
        super().__init__(status_code=500)
        self.route = route
        self.raw_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(_DROPPED_CONTENT_LENGTH).encode()),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
        raise ConnectionDropped(f"sandbox fault: connection dropped on route {self.route}")


def _fault_response(rule: FaultRule, route: RouteName, real: Response | None) -> Response:
    if rule.drop_connection:
        return DroppedConnectionResponse(route)

    status = rule.status or (real.status_code if real is not None else 200)
    headers = {"Retry-After": str(rule.retry_after)} if rule.retry_after is not None else {}
    error_name = rule.error_name or _DEFAULT_ERROR_NAMES.get(status, "SandboxFaultException")
    error_body = json.dumps(error_document(error_name, f"Fault injected by the sandbox on route {route}.")).encode()

    if rule.body is None:
        return Response(error_body, status, headers, media_type="application/json")
    if rule.body == "not_json":
        return Response(_NOT_JSON_BODY, status, headers, media_type="text/html")
    if rule.body == "empty":
        return Response(b"", status, headers, media_type="application/json")
    if rule.body == "wrong_shape":
        return JSONResponse(_WRONG_SHAPE_BODY, status, headers)

    # A truncated body is the real one cut in half when the request was carried out, else the error body.
    source = real.body if real is not None and real.body else error_body
    return Response(bytes(source[: len(source) // 2]), status, headers, media_type="application/json")


def _summarize(rule: FaultRule) -> str:
    effects = rule.model_dump(exclude_defaults=True, exclude={"route"})
    return ", ".join(f"{name}={value}" for name, value in effects.items())
