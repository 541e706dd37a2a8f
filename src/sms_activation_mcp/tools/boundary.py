"""The tool boundary: registers a tool so that its failures reach the agent as data too."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.types import CallToolResult, TextContent

from sms_activation_mcp.messages import AgentError
from sms_activation_mcp.results import labeled
from sms_activation_mcp.runtime import Runtime

logger = logging.getLogger(__name__)

ToolT = TypeVar("ToolT", bound=Callable[..., Awaitable[CallToolResult]])


def agent_tool(app: MCPServer, runtime: Runtime, **options: Any) -> Callable[[ToolT], ToolT]:
    """Register a tool like `app.tool(**options)`, returning an `AgentError` as an error result.

    The result's text is the error's message and its structured content is
    `{"sandbox": ..., "error": {"code": ..., "message": ..., **details}}`, so an agent
    can read the candidates, the quoted price or the earlier activation without
    parsing the text. Any other exception takes the SDK's own path.
    """

    def register(tool: ToolT) -> ToolT:
        @functools.wraps(tool)
        async def boundary(*args: Any, **kwargs: Any) -> CallToolResult:
            try:
                return await tool(*args, **kwargs)
            except AgentError as error:
                logger.info("%s failed: %s", tool.__name__, error.code)
                return _error_result(error, sandbox=runtime.sandbox)

        app.tool(**options)(boundary)
        return tool

    return register


def _error_result(error: AgentError, *, sandbox: bool) -> CallToolResult:
    return CallToolResult(
        content=[TextContent(type="text", text=labeled(error.message, sandbox=sandbox))],
        structured_content={
            "sandbox": sandbox,
            "error": {"code": error.code, "message": error.message, **error.details},
        },
        is_error=True,
    )
