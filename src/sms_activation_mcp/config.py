"""Settings read from the environment.

`PLATFONE_API_KEY` and `PLATFONE_API_URL` keep the names that Platfone's own MCP
server reads, so an existing client entry carries over. Everything of this
project's own starts with `SMS_MCP_`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLATFONE_PRODUCTION_URL = "https://temp-number-api.com/api/v1"


class Settings(BaseSettings):
    """Every setting of the server, with its environment variable."""

    model_config = SettingsConfigDict(env_prefix="SMS_MCP_", extra="ignore", populate_by_name=True)

    api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("PLATFONE_API_KEY"),
        description="Platfone API key. Without it the server runs on the built-in sandbox.",
    )
    api_url: str = Field(
        default=PLATFONE_PRODUCTION_URL,
        validation_alias=AliasChoices("PLATFONE_API_URL"),
        description="Base URL of the Platfone Activation API.",
    )
    data_dir: Path | None = Field(
        default=None, description="Folder of the activation ledger; default: the user data folder."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    http_timeout_seconds: float = Field(default=15.0, gt=0, le=120)
    catalog_ttl_seconds: float = Field(default=300.0, ge=0)

    poll_interval_seconds: float = Field(
        default=10.0,
        gt=0,
        description="Seconds between polls while check_sms waits. The real provider is never polled faster than 10 s.",
    )
    max_wait_seconds: int = Field(
        default=45,
        ge=0,
        le=300,
        description="Maximum wait of one check_sms call, in seconds. Many clients end a tool call after about 60 s.",
    )

    sandbox_sms_delay_seconds: float = Field(default=8.0, ge=0, description="Seconds until a sandbox SMS arrives.")
    sandbox_cancel_after_seconds: float = Field(
        default=30.0, ge=0, description="Seconds after ordering before a sandbox activation can be cancelled."
    )
    sandbox_lifetime_seconds: float = Field(
        default=1200.0, gt=0, description="Seconds a sandbox activation stays active before it expires."
    )
    sandbox_balance_cents: int = Field(default=1000, ge=0, description="Starting balance of the sandbox account.")

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_case_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    @property
    def uses_sandbox(self) -> bool:
        return self.api_key is None or not self.api_key.get_secret_value().strip()


def environment_variable(field_name: str) -> str:
    """Name the environment variable that sets `field_name`, for error messages."""
    field = Settings.model_fields.get(field_name)
    if field is not None and isinstance(field.validation_alias, AliasChoices):
        return str(field.validation_alias.choices[0])
    return f"SMS_MCP_{field_name.upper()}"
