"""The sandbox ASGI app: the Platfone API under /api/v1 and the control routes under /sandbox."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sms_activation_mcp.sandbox.api import api_routes
from sms_activation_mcp.sandbox.config import SandboxConfig
from sms_activation_mcp.sandbox.control import control_routes
from sms_activation_mcp.sandbox.errors import error_document
from sms_activation_mcp.sandbox.instance import SandboxInstance

SANDBOX_HEADER = (b"x-sandbox", b"true")

_ERROR_NAMES = {404: "NotFoundException", 405: "MethodNotAllowedException"}


def create_app(config: SandboxConfig | None = None, *, clock: Callable[[], float] | None = None) -> Starlette:
    """Build a sandbox app with its own in-memory state; `clock` returns Unix seconds (default time.time)."""
    app = Starlette(
        routes=[Mount("/api/v1", routes=api_routes()), Mount("/sandbox", routes=control_routes())],
        middleware=[Middleware(SandboxHeaderMiddleware)],
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    app.state.sandbox = SandboxInstance(config or SandboxConfig(), clock or time.time)
    return app


def serve(config: SandboxConfig, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve a sandbox app over HTTP with uvicorn until interrupted."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    uvicorn.run(create_app(config), host=host, port=port)


class SandboxHeaderMiddleware:
    """Mark every response with `X-Sandbox: true`, so a client can tell it is not talking to Platfone."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), SANDBOX_HEADER]
            await send(message)

        await self.app(scope, receive, send_marked)


async def _http_error(request: Request, exc: Exception) -> Response:
    # Starlette raises HTTPException for unknown paths (404) and methods (405).
    assert isinstance(exc, HTTPException)
    error_name = _ERROR_NAMES.get(exc.status_code, "BadRequestException")
    message = f"No route for {request.method} {request.url.path}." if exc.status_code in _ERROR_NAMES else exc.detail
    return JSONResponse(error_document(error_name, message), exc.status_code, exc.headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    # This handler runs outside SandboxHeaderMiddleware, so it sets the header itself.
    return JSONResponse(
        error_document("InternalServerErrorException", "The sandbox failed to handle the request."),
        500,
        {"X-Sandbox": "true"},
    )
