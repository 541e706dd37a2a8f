"""In-memory state of one sandbox app: its clock offset, account, fault rules and request counts."""

from __future__ import annotations

import hmac
import random
from collections import Counter
from collections.abc import Callable
from typing import cast

from starlette.requests import Request

from sms_activation_mcp.sandbox.catalog import SandboxCatalog, load_catalog
from sms_activation_mcp.sandbox.config import SandboxConfig
from sms_activation_mcp.sandbox.errors import SandboxError
from sms_activation_mcp.sandbox.faults import ROUTE_NAMES, FaultBook, RouteName
from sms_activation_mcp.sandbox.state import SandboxAccount


class ActivationIdSequence:
    """Numeric activation IDs that start at a random block, so a new app does not reuse an old app's IDs.

    The server keeps a persistent ledger of sandbox activations by ID, and an app that
    restarts from 1 would collide with the IDs of its previous run.
    """

    def __init__(self) -> None:
        self._next = random.SystemRandom().randrange(100_000, 1_000_000) * 1_000_000 + 1

    def __call__(self) -> str:
        activation_id = str(self._next)
        self._next += 1
        return activation_id


class SandboxInstance:
    """The state of one app; two apps never share one."""

    def __init__(self, config: SandboxConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self.catalog: SandboxCatalog = load_catalog()
        self._clock = clock
        self._clock_offset = 0.0
        self._activation_ids = ActivationIdSequence()
        self.account = SandboxAccount(config, self.catalog, self._activation_ids)
        self.faults = FaultBook(config.faults)
        self._request_counts: Counter[RouteName] = Counter()

    def now(self) -> float:
        """Return the app's time in Unix seconds: the clock plus every advance made so far."""
        return self._clock() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        self._clock_offset += seconds

    def reset(self) -> None:
        """Start over with a fresh account, the configured faults and zero counts.

        The clock offset stays, so time never runs backwards for a client, and activation
        IDs keep counting up, so an ID from before the reset is never reused.
        """
        self.account = SandboxAccount(self.config, self.catalog, self._activation_ids)
        self.faults = FaultBook(self.config.faults)
        self._request_counts.clear()

    def count_request(self, route: RouteName) -> None:
        self._request_counts[route] += 1

    def request_counts(self) -> dict[str, int]:
        """Return the requests seen per API route name, every name included, plus their `total`."""
        counts: dict[str, int] = {route: self._request_counts[route] for route in ROUTE_NAMES}
        counts["total"] = sum(self._request_counts.values())
        return counts

    def require_api_key(self, request: Request) -> None:
        """Raise a 401 SandboxError unless the request carries an acceptable X-Api-Key."""
        supplied = request.headers.get("x-api-key", "").strip()
        required = self.config.required_api_key

        if not supplied:
            accepted = False
        elif required is None:
            accepted = True
        else:
            accepted = hmac.compare_digest(supplied.encode(), required.encode())

        if not accepted:
            raise SandboxError(401, "UnauthorizedException", "Missing or invalid X-Api-Key header.")


def instance_of(request: Request) -> SandboxInstance:
    return cast(SandboxInstance, request.app.state.sandbox)
