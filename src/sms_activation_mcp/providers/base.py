"""The interface every upstream protocol implements."""

from __future__ import annotations

from typing import Protocol

from sms_activation_mcp.models import Activation, Balance, CatalogFetch, Country, Price, Service


class Provider(Protocol):
    """An SMS activation provider.

    Every method raises a `ProviderError` subclass on failure and nothing else.
    `etag` arguments enable conditional fetches: when the list is unchanged the
    result has `items=None`.
    """

    @property
    def is_sandbox(self) -> bool: ...

    async def get_balance(self) -> Balance: ...

    async def list_countries(self, etag: str | None = None) -> CatalogFetch[Country]: ...

    async def list_services(self, etag: str | None = None) -> CatalogFetch[Service]: ...

    async def get_price(self, country_id: str, service_id: str) -> Price: ...

    async def order(
        self,
        country_id: str,
        service_id: str,
        *,
        max_price: int | None = None,
        quality_factor: int | None = None,
        order_id: str | None = None,
    ) -> Activation:
        """Rent a number. `max_price` is in the provider's minor currency units."""
        ...

    async def get_activation(self, activation_id: str) -> Activation: ...

    async def retry(self, activation_id: str) -> None: ...

    async def cancel(self, activation_id: str) -> None: ...

    async def aclose(self) -> None: ...
