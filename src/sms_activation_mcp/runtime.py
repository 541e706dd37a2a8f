"""Shared state of the running server: the provider, the catalog, the ledger and name resolution."""

from __future__ import annotations

import logging
import sqlite3
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio
import httpx
from mcp.server.mcpserver.exceptions import ToolError

from sms_activation_mcp.catalog import Catalog, CatalogSnapshot
from sms_activation_mcp.config import Settings
from sms_activation_mcp.limits import SpendLimits
from sms_activation_mcp.messages import AgentError, provider_failure, unresolved_name
from sms_activation_mcp.models import Activation, ActivationStatus, BillingStatus, Country, Service
from sms_activation_mcp.providers import ActionNotAllowedError, ActivationNotFoundError, Provider, ProviderError
from sms_activation_mcp.providers.platfone import PlatfoneProvider
from sms_activation_mcp.views import activation_from_entry

if TYPE_CHECKING:
    from sms_activation_mcp.ledger import Ledger
    from sms_activation_mcp.resolver import Resolver
    from sms_activation_mcp.sandbox import SandboxConfig

logger = logging.getLogger(__name__)

SANDBOX_BASE_URL = "http://sandbox.local/api/v1"
SANDBOX_API_KEY = "sandbox"

T = TypeVar("T")
ItemT = TypeVar("ItemT", Country, Service)

# Most entries a list_* query returns; the tool's limit cuts further.
SEARCH_LIMIT = 500


@dataclass(frozen=True)
class CatalogKind(Generic[ItemT]):
    """How to fetch, index and name one catalog, so both catalogs share one code path."""

    noun: str
    noun_plural: str
    list_tool: str
    fetch: Callable[[Runtime], Awaitable[CatalogSnapshot[ItemT]]]
    build: Callable[[Sequence[ItemT]], Resolver]


def _state(activation: Activation) -> tuple[object, ...]:
    """Collect the parts of an activation whose change is worth a ledger write."""
    return (
        activation.updated_at,
        activation.status,
        activation.sms_status,
        activation.billing_status,
        activation.sms_code,
        activation.is_retriable,
    )


def _resolver_for_countries(countries: Sequence[Country]) -> Resolver:
    # Imported on first use: rapidfuzz and the alias tables are not needed to start serving.
    from sms_activation_mcp.resolver import Resolver

    return Resolver.for_countries(countries)


def _resolver_for_services(services: Sequence[Service]) -> Resolver:
    from sms_activation_mcp.resolver import Resolver

    return Resolver.for_services(services)


def build_provider(settings: Settings) -> PlatfoneProvider:
    """Connect to Platfone when an API key is set, otherwise to the in-process sandbox."""
    if settings.api_key is not None and not settings.uses_sandbox:
        return PlatfoneProvider(
            settings.api_key.get_secret_value(), settings.api_url, timeout=settings.http_timeout_seconds
        )

    # raise_app_exceptions=False: a sandbox fault that drops the connection arrives as a 500, as over a socket.
    transport = httpx.ASGITransport(app=LazySandbox(settings), raise_app_exceptions=False)
    return PlatfoneProvider(
        SANDBOX_API_KEY,
        SANDBOX_BASE_URL,
        timeout=settings.http_timeout_seconds,
        transport=transport,
        is_sandbox=True,
    )


def sandbox_config(settings: Settings, *, required_api_key: str | None = None) -> SandboxConfig:
    """Build the sandbox's configuration from the SMS_MCP_SANDBOX_* settings."""
    from sms_activation_mcp.sandbox import SandboxConfig

    return SandboxConfig(
        sms_delay_seconds=settings.sandbox_sms_delay_seconds,
        cancel_after_seconds=settings.sandbox_cancel_after_seconds,
        lifetime_seconds=settings.sandbox_lifetime_seconds,
        balance_cents=settings.sandbox_balance_cents,
        required_api_key=required_api_key,
    )


class LazySandbox:
    """The in-process sandbox app, created on its first request so that the server starts sooner."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._app: Callable[..., Awaitable[None]] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            from sms_activation_mcp.sandbox import create_app

            self._app = create_app(sandbox_config(self._settings))
            # In-process, the provider client logs every order, retry and cancel already.
            logging.getLogger("sms_activation_mcp.sandbox").setLevel(logging.WARNING)
        await self._app(scope, receive, send)


class Runtime:
    """The provider, the catalog and the resolvers built from it, shared by every tool."""

    def __init__(
        self,
        settings: Settings,
        provider: Provider,
        *,
        limits: SpendLimits | None = None,
        data_dir: Path | None = None,
    ) -> None:
        self.settings = settings
        self.provider = provider
        self.limits = limits or SpendLimits()
        self._chosen_data_dir = data_dir or settings.data_dir
        self._ledgers: dict[bool, Ledger] = {}
        self._scratch: tempfile.TemporaryDirectory[str] | None = None
        self._provider_answered = False
        self._recorded: dict[str, tuple[object, ...]] = {}
        self.catalog = Catalog(provider, ttl_seconds=settings.catalog_ttl_seconds)
        self._resolvers: dict[str, tuple[object, Resolver]] = {}
        self._orders_in_flight: dict[tuple[str, str], str] = {}

    @property
    def sandbox(self) -> bool:
        return self.provider.is_sandbox

    @property
    def ledger(self) -> Ledger:
        """The ledger of the account in use: sandbox activations are kept in a file of their own."""
        sandbox = self.sandbox
        if sandbox not in self._ledgers:
            # Imported on first use: sqlite3 and platformdirs are not needed to start serving.
            from sms_activation_mcp.ledger import Ledger

            self._ledgers[sandbox] = Ledger.open(self._ledger_dir(sandbox), sandbox=sandbox)
        return self._ledgers[sandbox]

    async def settled_ledger(self) -> Ledger:
        """Return the ledger after the first provider response, which shows whether the provider is a sandbox."""
        if not self._provider_answered:
            await self.countries()  # cached after the first call, so this costs at most one request
            self._provider_answered = True
        return self.ledger

    @property
    def _data_dir(self) -> Path:
        if self._chosen_data_dir is None:
            from sms_activation_mcp.ledger import default_data_dir

            self._chosen_data_dir = default_data_dir()
        return self._chosen_data_dir

    def _ledger_dir(self, sandbox: bool) -> Path:
        if not (sandbox and self.settings.uses_sandbox):
            return self._data_dir

        # The in-process sandbox's activations end with this process, so its ledger does too.
        # A file shared with other processes would list activations that no running sandbox has.
        if self._scratch is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="sms-activation-mcp-sandbox-")
        return Path(self._scratch.name)

    async def in_ledger(self, operation: Callable[[], T]) -> T:
        """Run a ledger operation in a worker thread, since sqlite3 blocks.

        A storage failure (an unwritable folder, a corrupt file) becomes a tool error for
        the owner; the owner's limit errors pass through unchanged.
        """
        try:
            return await anyio.to_thread.run_sync(operation)
        except (sqlite3.Error, OSError) as error:
            logger.error("the ledger in %s failed: %s", self._data_dir, error)
            raise AgentError(
                f"The activation ledger in {self._data_dir} cannot be used ({error}). "
                "The server's owner must fix SMS_MCP_DATA_DIR or the file's permissions.",
                code="ledger_unavailable",
            ) from None

    async def record(self, activation: Activation) -> None:
        """Store the activation's latest state; a ledger failure is logged, never lost on the agent.

        A state this process has already written is not written again, so polling costs no
        ledger write until something changes.
        """
        if self._recorded.get(activation.activation_id) == _state(activation):
            return

        try:
            await self.in_ledger(lambda: self.ledger.record(activation))
        except ToolError:
            return  # in_ledger logged it, and the agent's read succeeded
        self.mark_recorded(activation)

    def mark_recorded(self, activation: Activation) -> None:
        """Note that this process wrote this state of the activation to the ledger."""
        self._recorded[activation.activation_id] = _state(activation)

    async def reconcile(self) -> None:
        """Refresh the active activations that earlier processes left in the ledger.

        The in-process sandbox starts empty in every process, so it has nothing to reconcile.
        """
        if self.settings.uses_sandbox:
            return
        try:
            await self.provider.get_balance()  # learns whether the API is a sandbox before choosing the ledger
            entries = await self.in_ledger(self.ledger.active)
        except (ProviderError, ToolError) as error:
            logger.warning("could not reconcile the ledger at start: %s", error)
            return

        # Activations this process has written since it started are current already.
        entries = [entry for entry in entries if entry.activation_id not in self._recorded]
        for entry in entries:
            await self.refresh(activation_from_entry(entry))
        if entries:
            logger.info("reconciled %d active activations from the ledger", len(entries))

    async def read_activation(self, activation_id: str) -> Activation:
        """Read an activation for a tool and record it; an id unknown upstream is closed in the ledger."""
        try:
            activation = await self.provider.get_activation(activation_id)
        except ActivationNotFoundError as error:
            await self._close_unknown(activation_id)
            raise provider_failure(error, action="check", activation_id=activation_id) from None
        except ProviderError as error:
            logger.warning("check failed for %s: %r", activation_id, error)
            raise provider_failure(error, action="check", activation_id=activation_id) from None

        await self.record(activation)
        return activation

    async def refresh(self, activation: Activation) -> Activation:
        """Return an active activation's current state, or the recorded one if the provider cannot be read."""
        if activation.status is not ActivationStatus.ACTIVE:
            return activation
        try:
            return await self.read_activation(activation.activation_id)
        except ToolError:
            entry = await self.in_ledger(lambda: self.ledger.get(activation.activation_id))
            return activation_from_entry(entry) if entry is not None else activation

    async def _close_unknown(self, activation_id: str) -> None:
        # The provider no longer has it (a sandbox that restarted, another account), so it can
        # never get an SMS. Recording it as expired stops it blocking orders and the budget.
        entry = await self.in_ledger(lambda: self.ledger.get(activation_id))
        if entry is None or entry.status is not ActivationStatus.ACTIVE:
            return

        closed = activation_from_entry(entry).model_copy(
            update={
                "status": ActivationStatus.EXPIRED,
                "billing_status": BillingStatus.RELEASED,
                "updated_at": datetime.now(timezone.utc),
            }
        )
        logger.warning("activation %s is unknown to the provider; recorded it as expired", activation_id)
        await self.record(closed)

    async def call(
        self,
        action: str,
        request: Callable[[], Awaitable[T]],
        activation_id: str | None = None,
        *,
        explain_refusal: Callable[[], Awaitable[AgentError]] | None = None,
    ) -> T:
        """Run one provider request, turning its failure into a tool error for the agent.

        `explain_refusal` builds the error when the provider rejects the action in the
        activation's current state, from a fresh read of that state.
        """
        try:
            return await request()
        except ActionNotAllowedError as error:
            logger.info("%s rejected%s: %r", action, f" for {activation_id}" if activation_id else "", error)
            if explain_refusal is None:
                raise provider_failure(error, action=action, activation_id=activation_id) from None
            raise await explain_refusal() from None
        except ProviderError as error:
            logger.warning("%s failed%s: %r", action, f" for {activation_id}" if activation_id else "", error)
            raise provider_failure(error, action=action, activation_id=activation_id) from None

    async def countries(self) -> CatalogSnapshot[Country]:
        return await self.call("list countries", self.catalog.countries)

    async def services(self) -> CatalogSnapshot[Service]:
        return await self.call("list services", self.catalog.services)

    async def resolve_country(self, query: str) -> Country:
        return await self._resolve(COUNTRIES, query)

    async def resolve_service(self, query: str) -> Service:
        return await self._resolve(SERVICES, query)

    async def search_countries(self, query: str | None) -> list[Country]:
        return await self._search(COUNTRIES, query)

    async def search_services(self, query: str | None) -> list[Service]:
        return await self._search(SERVICES, query)

    async def _resolve(self, kind: CatalogKind[ItemT], query: str) -> ItemT:
        from sms_activation_mcp.resolver import Resolved

        snapshot = await kind.fetch(self)
        result = self._resolver(kind, snapshot).resolve(query)
        if not isinstance(result, Resolved):
            raise unresolved_name(kind.noun, result, list_tool=kind.list_tool)

        item = snapshot.get(result.id)
        assert item is not None, "the resolver only returns ids of its catalog"
        return item

    async def _search(self, kind: CatalogKind[ItemT], query: str | None) -> list[ItemT]:
        """Return the whole catalog in its order, or the entries matching `query`, best first."""
        snapshot = await kind.fetch(self)
        if query is None:
            return list(snapshot.items)

        found = self._resolver(kind, snapshot).search(query, limit=SEARCH_LIMIT)
        return [item for candidate in found if (item := snapshot.get(candidate.id)) is not None]

    async def matching_ids(self, kind: CatalogKind[Any], names: Sequence[str]) -> set[str]:
        """Resolve names like tool arguments; a name that fits no single entry matches nothing."""
        from sms_activation_mcp.resolver import Resolved

        snapshot = await kind.fetch(self)
        resolver = self._resolver(kind, snapshot)
        ids = set()
        for name in names:
            result = resolver.resolve(name)
            if isinstance(result, Resolved):
                ids.add(result.id)
            else:
                logger.warning("%s %r does not name one catalog entry, so it matches nothing", kind.noun, name)
        return ids

    def _resolver(self, kind: CatalogKind[ItemT], snapshot: CatalogSnapshot[ItemT]) -> Resolver:
        # The catalog keeps the same snapshot object while the upstream list is unchanged,
        # so the index is built once per catalog version.
        cached = self._resolvers.get(kind.noun)
        if cached is not None and cached[0] is snapshot:
            return cached[1]

        resolver = kind.build(snapshot.items)
        self._resolvers[kind.noun] = (snapshot, resolver)
        return resolver

    @asynccontextmanager
    async def single_order(self, country_id: str, service_id: str) -> AsyncIterator[None]:
        """Let one order per country and service run at a time, so a repeated call cannot rent twice."""
        key = (country_id, service_id)
        if key in self._orders_in_flight:
            raise AgentError(
                f"An order for {service_id} in {country_id} is already in progress "
                f"(started {self._orders_in_flight[key]}). Wait for its result instead of ordering again.",
                code="order_in_progress",
            )

        self._orders_in_flight[key] = datetime.now(timezone.utc).strftime("%H:%M:%S UTC")
        try:
            yield
        finally:
            del self._orders_in_flight[key]

    async def aclose(self) -> None:
        await self.provider.aclose()
        if self._scratch is not None:
            self._scratch.cleanup()


COUNTRIES: CatalogKind[Country] = CatalogKind(
    "country", "countries", "list_countries", Runtime.countries, _resolver_for_countries
)
SERVICES: CatalogKind[Service] = CatalogKind(
    "service", "services", "list_services", Runtime.services, _resolver_for_services
)
