"""The MCP tools, registered on a server around one shared runtime."""

from mcp.server.mcpserver import MCPServer

from sms_activation_mcp.runtime import Runtime
from sms_activation_mcp.tools import account, activations, catalog


def register_tools(app: MCPServer, runtime: Runtime) -> None:
    catalog.register(app, runtime)
    activations.register(app, runtime)
    account.register(app, runtime)
