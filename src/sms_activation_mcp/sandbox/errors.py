"""Platfone-style error responses of the sandbox."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.responses import JSONResponse


def error_document(error_name: str, message: str, extra: Mapping[str, object] | None = None) -> dict[str, object]:
    """Build the JSON body Platfone sends with an error: errorName, errorMessage and any extra fields."""
    document: dict[str, object] = {"errorName": error_name, "errorMessage": message}
    if extra:
        document.update(extra)
    return document


class SandboxError(Exception):
    """A request the sandbox rejects, with the HTTP status and Platfone errorName to respond with."""

    def __init__(
        self,
        status_code: int,
        error_name: str,
        message: str,
        extra: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error_name = error_name
        self.message = message
        self.extra = dict(extra or {})

    def to_response(self) -> JSONResponse:
        return JSONResponse(error_document(self.error_name, self.message, self.extra), self.status_code)

    def __repr__(self) -> str:
        return f"SandboxError({self.status_code}, {self.error_name!r}, {self.message!r})"
