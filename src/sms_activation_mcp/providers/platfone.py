"""Client for the Platfone Activation API (REST over httpx).

Platfone's field names, status strings and error names stay in this module: callers get
the project's models and a `ProviderError` subclass for every failure.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from sms_activation_mcp import __version__
from sms_activation_mcp.models import (
    Activation,
    ActivationStatus,
    Balance,
    BillingStatus,
    CatalogFetch,
    Country,
    Money,
    Price,
    Service,
    SmsStatus,
)
from sms_activation_mcp.providers.errors import (
    AccountOnHoldError,
    ActionNotAllowedError,
    ActivationNotFoundError,
    AuthenticationError,
    InsufficientBalanceError,
    InvalidRequestError,
    InvalidResponseError,
    MaxPriceExceededError,
    NoNumbersAvailableError,
    ProviderError,
    RateLimitedError,
    TooManyActivationsError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from sms_activation_mcp.providers.retry import RetryPolicy

logger = logging.getLogger(__name__)

ModelT = TypeVar("ModelT")

# Upstream text quoted in an error message is cut to this many characters.
MAX_QUOTED_CHARS = 200

CONNECT_TIMEOUT_SECONDS = 5.0

# A request that starts with less time left before the retry deadline still gets this long.
MIN_ATTEMPT_TIMEOUT_SECONDS = 0.1

LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=5, keepalive_expiry=30.0)

# Largest Unix time a datetime can represent (9999-12-31T23:59:59Z), so conversion cannot overflow.
MAX_UNIX_SECONDS = 253_402_300_799
UnixSeconds = Annotated[int, Field(ge=0, le=MAX_UNIX_SECONDS)]

API_KEY_PATTERN = re.compile(r"[\x21-\x7e]+")  # printable ASCII without spaces, as an HTTP header value needs

SMS_STATUSES = {
    "smsRequested": SmsStatus.REQUESTED,
    "smsReceived": SmsStatus.RECEIVED,
    "retryRequested": SmsStatus.RETRY_REQUESTED,
    "retryReceived": SmsStatus.RETRY_RECEIVED,
}
ACTIVATION_STATUSES = {
    "active": ActivationStatus.ACTIVE,
    "finalized": ActivationStatus.FINALIZED,
    "expired": ActivationStatus.EXPIRED,
    "canceled": ActivationStatus.CANCELED,
}
BILLING_STATUSES = {
    "reserved": BillingStatus.RESERVED,
    "released": BillingStatus.RELEASED,
    "billed": BillingStatus.BILLED,
    "refunded": BillingStatus.REFUNDED,
}

# Error names whose meaning does not depend on the HTTP status they arrive with.
ERRORS_BY_NAME: dict[str, type[ProviderError]] = {
    "NoNumbersAvailableException": NoNumbersAvailableError,
    "TooManyActivationsException": TooManyActivationsError,
    "RetryNotAllowedException": ActionNotAllowedError,
    "CancelNotAllowedException": ActionNotAllowedError,
    "NotEnoughFundsException": InsufficientBalanceError,
    "AccountOnHoldException": AccountOnHoldError,
    "ActivationNotFoundException": ActivationNotFoundError,
    "InvalidCountryException": InvalidRequestError,
    "InvalidServiceException": InvalidRequestError,
    "ServiceProhibitedException": InvalidRequestError,
    "ServiceUnavailableException": UpstreamUnavailableError,
}
ERRORS_BY_STATUS: dict[int, type[ProviderError]] = {
    401: AuthenticationError,
    402: InsufficientBalanceError,
    403: AccountOnHoldError,
}

# httpx errors raised before any byte of the request left, so the request cannot have taken effect.
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class _RequestNotSent(Exception):
    """The cause of a failure that happened before the request left, so it cannot have taken effect."""


class _WireModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, coerce_numbers_to_str=True, populate_by_name=True)


class _WireBalance(_WireModel):
    total: int
    reserved: int

    def to_model(self) -> Balance:
        return Balance(total=_usd(self.total), reserved=_usd(self.reserved))


class _WireCountry(_WireModel):
    country_id: str = Field(min_length=1)
    name: str
    alt_name: str | None = None
    codes: list[str] = []

    def to_model(self) -> Country:
        return Country(
            country_id=self.country_id,
            name=self.name,
            alt_name=self.alt_name or "",
            dialing_codes=tuple(self.codes),
            virtual_only=self.country_id.endswith("_v"),
        )


class _WireService(_WireModel):
    service_id: str = Field(min_length=1)
    name: str
    alt_name: str | None = None
    has_warning: bool = False
    prohibited: bool = False

    def to_model(self) -> Service:
        return Service(
            service_id=self.service_id,
            name=self.name,
            alt_name=self.alt_name or "",
            prohibited=self.prohibited,
            has_warning=self.has_warning,
        )


class _WirePriceRange(_WireModel):
    min: int
    max: int
    suggested: int


class _WireQuality(_WireModel):
    avg: float | None = None


class _WirePrice(_WireModel):
    price: _WirePriceRange
    quality: _WireQuality | None = None
    count: int = Field(ge=0)

    def to_model(self, country_id: str, service_id: str) -> Price:
        return Price(
            country_id=country_id,
            service_id=service_id,
            min=_usd(self.price.min),
            max=_usd(self.price.max),
            suggested=_usd(self.price.suggested),
            available=self.count,
            quality=self.quality.avg if self.quality else None,
        )


class _WireActivation(_WireModel):
    activation_id: str = Field(min_length=1)
    phone: str = Field(pattern=r"^\+?[0-9]{4,20}$")
    country_id: str
    service_id: str
    price: int = Field(ge=0)
    sms_status: Literal["smsRequested", "smsReceived", "retryRequested", "retryReceived"]
    activation_status: Literal["active", "finalized", "expired", "canceled"]
    billing_status: Literal["reserved", "released", "billed", "refunded"]
    sms_code: str | None = None
    sms_text: str | None = None
    expire_at: UnixSeconds
    created_at: UnixSeconds
    updated_at: UnixSeconds
    is_retriable: bool = False
    cancelable_after: UnixSeconds | None = None

    def to_model(self) -> Activation:
        return Activation(
            activation_id=self.activation_id,
            phone="+" + self.phone.lstrip("+"),
            country_id=self.country_id,
            service_id=self.service_id,
            price=_usd(self.price),
            sms_status=SMS_STATUSES[self.sms_status],
            status=ACTIVATION_STATUSES[self.activation_status],
            billing_status=BILLING_STATUSES[self.billing_status],
            sms_code=self.sms_code,
            sms_text=self.sms_text,
            expires_at=_utc(self.expire_at),
            created_at=_utc(self.created_at),
            updated_at=_utc(self.updated_at),
            is_retriable=self.is_retriable,
            cancelable_after=_utc(self.cancelable_after) if self.cancelable_after is not None else None,
        )


class _WireResult(_WireModel):
    result: Literal["success"]


class _WireError(_WireModel):
    error_name: str | None = Field(default=None, alias="errorName")
    error_message: str | None = Field(default=None, alias="errorMessage")
    suggested_price: int | None = Field(default=None, alias="suggestedPrice", ge=0)
    order_id: str | None = Field(default=None, alias="orderId")
    blocked_until: UnixSeconds | None = Field(default=None, alias="blockedUntil")


BALANCE = TypeAdapter(_WireBalance)
COUNTRIES = TypeAdapter(list[_WireCountry])
SERVICES = TypeAdapter(list[_WireService])
PRICE = TypeAdapter(_WirePrice)
ACTIVATION = TypeAdapter(_WireActivation)
RESULT = TypeAdapter(_WireResult)
ERROR = TypeAdapter(_WireError)


class PlatfoneProvider:
    """A `Provider` that speaks the Platfone Activation API through one shared httpx client.

    Read-only GET requests are retried by `retry_policy`. Orders (POST) are never resent,
    because a second order could rent a second number. A retry or cancel (PUT) that fails
    after it may have reached Platfone is checked by reading the activation back.
    """

    def __init__(
        self,
        api_key: str,
        base_url: str,
        *,
        timeout: float = 15.0,
        transport: httpx.AsyncBaseTransport | None = None,
        is_sandbox: bool = False,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        api_key = _checked_api_key(api_key)
        base_url = _checked_base_url(base_url)
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, got {timeout}")

        self._base_url = base_url
        self._timeout = timeout
        self._retry_policy = retry_policy or RetryPolicy()
        # Platfone's own sandbox lives under /test/api/ on the production host.
        self._declared_sandbox = is_sandbox or "/test/api/" in base_url
        self._sandbox_header_seen = False
        self._api_key = api_key
        self._transport = transport
        self._client: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._base_url!r}, is_sandbox={self.is_sandbox})"

    async def __aenter__(self) -> PlatfoneProvider:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    @property
    def is_sandbox(self) -> bool:
        """Whether the upstream is a sandbox: declared so, Platfone's test URL, or a response with `X-Sandbox: true`."""
        return self._declared_sandbox or self._sandbox_header_seen

    async def get_balance(self) -> Balance:
        path = "/user/balance"
        response = await self._get(path)
        return self._parse(response, BALANCE, f"GET {path}").to_model()

    async def list_countries(self, etag: str | None = None) -> CatalogFetch[Country]:
        countries, etag = await self._get_list("/activation/countries", COUNTRIES, etag)
        items = None if countries is None else [country.to_model() for country in countries]
        return CatalogFetch[Country](items=items, etag=etag)

    async def list_services(self, etag: str | None = None) -> CatalogFetch[Service]:
        services, etag = await self._get_list("/activation/services", SERVICES, etag)
        items = None if services is None else [service.to_model() for service in services]
        return CatalogFetch[Service](items=items, etag=etag)

    async def get_price(self, country_id: str, service_id: str) -> Price:
        service = _path_segment(service_id, "service id")
        country = _path_segment(country_id, "country id")
        path = f"/activation/prices/services/{service}/countries/{country}"
        response = await self._get(path)
        return self._parse(response, PRICE, f"GET {path}").to_model(country_id, service_id)

    async def order(
        self,
        country_id: str,
        service_id: str,
        *,
        max_price: int | None = None,
        quality_factor: int | None = None,
        order_id: str | None = None,
    ) -> Activation:
        """Rent a number. The request is sent once, because a resent order could rent and pay twice."""
        if max_price is not None and max_price < 0:
            raise InvalidRequestError(f"max_price must be zero or more cents, got {max_price}")
        if quality_factor is not None and not 0 <= quality_factor <= 100:
            raise InvalidRequestError(f"quality_factor must be between 0 and 100, got {quality_factor}")

        body: dict[str, Any] = {"service_id": service_id, "country_id": country_id}
        if max_price is not None:
            body["max_price"] = max_price
        if quality_factor is not None:
            body["quality_factor"] = quality_factor
        if order_id is not None:
            body["order_id"] = order_id

        path = "/activation"
        response = await self._send("POST", path, json=body)
        activation = self._parse(response, ACTIVATION, f"POST {path}").to_model()
        logger.info(
            "ordered activation %s %s/%s at %dc",
            activation.activation_id,
            country_id,
            service_id,
            activation.price.amount,
        )
        return activation

    async def get_activation(self, activation_id: str) -> Activation:
        path = f"/activation/{_path_segment(activation_id, 'activation id')}"
        response = await self._get(path, activation_route=True)
        return self._parse(response, ACTIVATION, f"GET {path}").to_model()

    async def retry(self, activation_id: str) -> None:
        """Ask for another SMS on the same number."""
        await self._change_activation(activation_id, "retry", _retry_took_effect)

    async def cancel(self, activation_id: str) -> None:
        """Cancel the activation, which refunds its reserved price."""
        await self._change_activation(activation_id, "cancel", _cancel_took_effect)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def _http(self) -> httpx.AsyncClient:
        """Return the shared client, built on first use.

        An httpx client for HTTPS loads the CA bundle when it is built, which takes tens of
        milliseconds, so building it lazily lets the MCP server respond to its first requests sooner.
        """
        if self._client is None:
            self._client = httpx.AsyncClient(
                base_url=self._base_url,
                headers={
                    "X-Api-Key": self._api_key,
                    "User-Agent": f"sms-activation-mcp/{__version__}",
                    "Accept": "application/json",
                },
                timeout=self._timeout_within(None),
                limits=LIMITS,
                transport=self._transport,
            )
        return self._client

    async def _change_activation(
        self,
        activation_id: str,
        action: Literal["retry", "cancel"],
        took_effect: Callable[[Activation, datetime], bool],
    ) -> None:
        """Send a retry or cancel once. After an unclear failure, read the activation back for the outcome."""
        path = f"/activation/{_path_segment(activation_id, 'activation id')}/{action}"
        route = f"PUT {path}"
        # Platfone's updated_at has whole seconds, so the comparison in took_effect must too.
        sent_at = datetime.now(timezone.utc).replace(microsecond=0)

        try:
            response = await self._send("PUT", path, activation_route=True)
            self._parse(response, RESULT, route)
        except (UpstreamUnavailableError, UpstreamTimeoutError, InvalidResponseError) as error:
            if isinstance(error.__cause__, _RequestNotSent):
                raise
            await self._confirm_change(
                activation_id, action, error, lambda activation: took_effect(activation, sent_at)
            )
            return

        logger.info("%s of activation %s accepted", action, activation_id)

    async def _confirm_change(
        self,
        activation_id: str,
        action: str,
        error: ProviderError,
        took_effect: Callable[[Activation], bool],
    ) -> None:
        """Return if the activation shows that `action` took effect despite `error`, else raise `error`."""
        try:
            activation = await self.get_activation(activation_id)
        except ProviderError as read_error:
            logger.warning(
                "%s of activation %s has an unknown outcome: %s, then reading it back failed: %s",
                action,
                activation_id,
                error.message,
                read_error.message,
            )
            message = (
                f"{error.message.rstrip('.')}. Reading the activation back failed too, so it is unknown "
                f"whether the {action} took effect. Call check_sms to see the activation's state."
            )
            raise type(error)(message, status_code=error.status_code, error_name=error.error_name) from error

        if took_effect(activation):
            logger.info(
                "%s of activation %s took effect although the response failed: %s",
                action,
                activation_id,
                error.message,
            )
            return

        logger.info(
            "%s of activation %s did not take effect (sms %s, status %s)",
            action,
            activation_id,
            activation.sms_status.value,
            activation.status.value,
        )
        raise error

    async def _get_list(
        self, path: str, adapter: TypeAdapter[list[ModelT]], etag: str | None
    ) -> tuple[list[ModelT] | None, str | None]:
        """Fetch a catalog list, or None in place of it when the server reports it unchanged (304).

        Returns the list and its new ETag, or None and the ETag of the unchanged list.
        """
        response = await self._get(path, etag=etag)
        if response.status_code == httpx.codes.NOT_MODIFIED:
            return None, _etag(response) or etag
        return self._parse(response, adapter, f"GET {path}"), _etag(response)

    async def _get(self, path: str, *, etag: str | None = None, activation_route: bool = False) -> httpx.Response:
        """Send a GET under the retry policy. A 304 response is returned only when `etag` was sent."""
        # An ETag that cannot be a header value is skipped, which costs a full download instead of a failure.
        if etag is not None and not (etag.isascii() and etag.isprintable() and etag.strip()):
            etag = None
        headers = {"If-None-Match": etag} if etag is not None else None

        async def send(seconds_left: float) -> httpx.Response:
            return await self._send(
                "GET",
                path,
                headers=headers,
                seconds_left=seconds_left,
                activation_route=activation_route,
                allow_not_modified=etag is not None,
            )

        return await self._retry_policy.run(send, route=f"GET {path}", logger=logger)

    async def _send(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        seconds_left: float | None = None,
        activation_route: bool = False,
        allow_not_modified: bool = False,
    ) -> httpx.Response:
        """Send one request and return a successful response, or raise the matching `ProviderError`."""
        route = f"{method} {path}"
        timeout = self._timeout_within(seconds_left)

        try:
            response = await self._http().request(method, path, json=json, headers=headers, timeout=timeout)
        except httpx.TimeoutException as error:
            limit = timeout.connect if isinstance(error, httpx.ConnectTimeout) else timeout.read
            raise UpstreamTimeoutError(
                self._redact(f"{route} timed out: no response within {limit:g} s ({type(error).__name__})")
            ) from _cause_of(error)
        except httpx.DecodingError as error:
            raise InvalidResponseError(
                self._redact(f"{route} returned a body that could not be decoded: {_excerpt(str(error))}")
            ) from None
        except httpx.RequestError as error:
            detail = _excerpt(str(error)) or "no details"
            raise UpstreamUnavailableError(
                self._redact(f"{route} failed: could not reach the API ({type(error).__name__}: {detail})")
            ) from _cause_of(error)

        if response.headers.get("X-Sandbox", "").strip().lower() == "true":
            self._sandbox_header_seen = True

        if response.is_success or (allow_not_modified and response.status_code == httpx.codes.NOT_MODIFIED):
            return response
        raise self._error_from(response, route, activation_route=activation_route)

    def _error_from(self, response: httpx.Response, route: str, *, activation_route: bool) -> ProviderError:
        """Build the `ProviderError` for an unsuccessful response. A known errorName wins over the status."""
        status = response.status_code
        body = _error_body(response)
        name = body.error_name
        upstream_text = body.error_message or (None if body.error_name else response.text)
        label = f"HTTP {status} ({name or response.reason_phrase or 'no reason'})"
        detail = _excerpt(self._redact(upstream_text or ""))
        message = self._redact(f"{route} failed with {label}: {detail}" if detail else f"{route} failed with {label}")

        if name == "MaxPriceExceededException" or (status == httpx.codes.CONFLICT and name is None):
            if body.suggested_price is None:
                return InvalidResponseError(
                    f"{message}. The response has no suggestedPrice", status_code=status, error_name=name
                )
            return MaxPriceExceededError(
                message,
                suggested_price=_usd(body.suggested_price),
                order_id=body.order_id,
                status_code=status,
                error_name=name,
            )

        if name == "TooManyRequestsException" or status == httpx.codes.TOO_MANY_REQUESTS:
            return RateLimitedError(
                message,
                retry_after=_retry_after_seconds(response.headers.get("Retry-After"), datetime.now(timezone.utc)),
                blocked_until=_utc(body.blocked_until) if body.blocked_until is not None else None,
                status_code=status,
                error_name=name,
            )

        error_class = ERRORS_BY_NAME.get(name or "") or ERRORS_BY_STATUS.get(status)
        if error_class is None and status == httpx.codes.NOT_FOUND:
            error_class = ActivationNotFoundError if activation_route else InvalidRequestError
        if error_class is None and status >= 500:
            error_class = UpstreamUnavailableError
        if error_class is None and status >= 400:
            error_class = InvalidRequestError
        if error_class is None:
            # Redirects and other 1xx/3xx responses. The client does not follow redirects, because the API sends none.
            error_class = InvalidResponseError
        return error_class(message, status_code=status, error_name=name)

    def _parse(self, response: httpx.Response, adapter: TypeAdapter[ModelT], route: str) -> ModelT:
        try:
            return adapter.validate_json(response.content)
        except ValidationError as error:
            raise InvalidResponseError(
                self._redact(f"{route} returned an invalid body: {_summarize(error)}"),
                status_code=response.status_code,
            ) from None

    def _timeout_within(self, seconds_left: float | None) -> httpx.Timeout:
        """Build the request timeout, shortened so that a retried request ends by the retry deadline."""
        total = self._timeout
        if seconds_left is not None:
            total = max(MIN_ATTEMPT_TIMEOUT_SECONDS, min(total, seconds_left))
        return httpx.Timeout(total, connect=min(CONNECT_TIMEOUT_SECONDS, total))

    def _redact(self, text: str) -> str:
        """Remove the API key from text bound for a message or log, in case the upstream echoed it."""
        return text.replace(self._api_key, "[redacted]")


def _retry_took_effect(activation: Activation, sent_at: datetime) -> bool:
    # retryReceived may be left from an earlier retry, so it counts only if it changed after this request.
    # NOTE: this compares Platfone's clock with ours. If Platfone's runs behind, a retry whose SMS has
    # already arrived is reported as failed, and the caller learns the truth from the next check_sms.
    if activation.sms_status is SmsStatus.RETRY_REQUESTED:
        return True
    return activation.sms_status is SmsStatus.RETRY_RECEIVED and activation.updated_at >= sent_at


def _cancel_took_effect(activation: Activation, sent_at: datetime) -> bool:
    return activation.status is ActivationStatus.CANCELED


def _checked_api_key(api_key: str) -> str:
    # The messages never quote the key, even a malformed one.
    api_key = api_key.strip()
    if not api_key:
        raise ValueError("The API key is empty")
    if not API_KEY_PATTERN.fullmatch(api_key):
        raise ValueError("The API key is invalid: it must be printable ASCII without spaces")
    return api_key


def _checked_base_url(base_url: str) -> str:
    url = httpx.URL(base_url.strip())
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"The base URL must be an http or https URL, got {base_url!r}")
    if url.userinfo or url.query or url.fragment:
        raise ValueError("The base URL must not contain credentials, a query or a fragment")
    return str(url).rstrip("/")


def _path_segment(value: str, label: str) -> str:
    """Percent-encode `value` as one URL path segment, so an id cannot reach another route."""
    if value in ("", ".", ".."):
        raise InvalidRequestError(f"The {label} {value!r} is invalid: it must not be empty, '.' or '..'")
    return quote(value, safe="")


def _cause_of(error: httpx.RequestError) -> _RequestNotSent | None:
    """Pick the cause to chain to a transport failure.

    The httpx error itself is left out of the chain, because its text comes from the network
    and a printed traceback would show it without redaction.
    """
    if isinstance(error, NOT_SENT_ERRORS):
        return _RequestNotSent(f"{type(error).__name__} before the request was sent")
    return None


def _error_body(response: httpx.Response) -> _WireError:
    """Parse Platfone's error JSON. A body of another shape yields an error without details."""
    try:
        return ERROR.validate_json(response.content)
    except ValidationError:
        return _WireError()


def _etag(response: httpx.Response) -> str | None:
    etag: str | None = response.headers.get("X-ETag") or response.headers.get("ETag")
    return etag


def _retry_after_seconds(value: str | None, now: datetime) -> float | None:
    """Convert a Retry-After header (seconds or an HTTP-date) to seconds, or None when it is absent or invalid."""
    if value is None or not value.strip():
        return None

    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        seconds = (moment - now).total_seconds()

    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)


def _summarize(error: ValidationError) -> str:
    """Describe the first validation problem without quoting the input, which may be long."""
    problems = error.errors(include_url=False, include_input=False)
    first = problems[0]
    location = ".".join(str(part) for part in first["loc"]) or "body"
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    return _excerpt(f"{location}: {first['msg']}{more}")


def _excerpt(text: str) -> str:
    """Collapse whitespace and control characters and cut the text to MAX_QUOTED_CHARS."""
    flat = " ".join("".join(char if char.isprintable() else " " for char in text).split())
    if len(flat) <= MAX_QUOTED_CHARS:
        return flat
    return flat[: MAX_QUOTED_CHARS - 3].rstrip() + "..."


def _usd(cents: int) -> Money:
    return Money(amount=cents, currency="USD")


def _utc(unix_seconds: int) -> datetime:
    return datetime.fromtimestamp(unix_seconds, tz=timezone.utc)
