"""JSON request bodies the sandbox accepts, and reading them from a request."""

from __future__ import annotations

from typing import TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails
from starlette.requests import Request

from sms_activation_mcp.sandbox.errors import SandboxError

BodyT = TypeVar("BodyT", bound=BaseModel)

MAX_BODY_BYTES = 64 * 1024


class OrderRequest(BaseModel):
    """Body of POST /activation."""

    service_id: str = Field(min_length=1)
    country_id: str = Field(min_length=1)
    max_price: int | None = Field(default=None, ge=0)
    quality_factor: int = Field(default=50, ge=0, le=100)
    order_id: str | None = None


class SmsInjection(BaseModel):
    """Body of POST /sandbox/activations/{id}/sms; what is left out is generated."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, min_length=1, max_length=1000)
    code: str | None = Field(default=None, pattern=r"^[0-9A-Za-z-]{1,16}$")


class ClockAdvance(BaseModel):
    model_config = ConfigDict(extra="forbid")

    seconds: float = Field(ge=0, allow_inf_nan=False)


class BalanceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    total: int = Field(ge=0)


async def read_body(request: Request, model: type[BodyT]) -> BodyT:
    """Parse the request's JSON body into `model`, or raise a 400 SandboxError that names the problem."""
    raw = await request.body()
    if len(raw) > MAX_BODY_BYTES:
        raise SandboxError(413, "PayloadTooLargeException", f"The request body is over {MAX_BODY_BYTES} bytes.")

    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as error:
        problems = "; ".join(_describe(detail) for detail in error.errors(include_url=False))
        raise SandboxError(400, "InvalidRequestException", f"Invalid request body: {problems}") from None


def _describe(detail: ErrorDetails) -> str:
    location = ".".join(str(part) for part in detail["loc"]) or "body"
    return f"{location}: {detail['msg']}"
