"""The API key never leaves the process: a canary key is searched for in everything the server writes.

The stdio test runs the console script against the sandbox served on a port that requires
the canary key, drives the whole flow with faults injected, and captures the server's raw
stdout (through tee) and its stderr. The in-process tests make the provider fail in every
way it can, with the canary echoed in each upstream response, and check every error and log.
"""

from __future__ import annotations

import logging
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult

from sms_activation_mcp.config import Settings
from sms_activation_mcp.messages import provider_failure
from sms_activation_mcp.providers import errors
from sms_activation_mcp.providers.platfone import PlatfoneProvider
from sms_activation_mcp.providers.retry import RetryPolicy
from tests.test_e2e_stdio import SCRIPT, base_environment, free_port

pytestmark = pytest.mark.anyio

CANARY = "canary-key-5d1e7a93c0b2f846"
FLOW_TIMEOUT_SECONDS = 1
# The sandbox responds this late, after the server's HTTP timeout.
SLOW_SECONDS = 2.5
# Faults armed for one request each: the route, the rule, and the tool call that reaches the route.
FAULT_CASES: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = [
    ("balance", {"status": 401}, "get_balance", {}),
    ("balance", {"status": 503}, "get_balance", {}),
    ("balance", {"status": 429, "retry_after": 1}, "get_balance", {}),
    ("balance", {"delay_seconds": SLOW_SECONDS}, "get_balance", {}),
    ("balance", {"body": "not_json"}, "get_balance", {}),
    ("balance", {"body": "truncated"}, "get_balance", {}),
    ("balance", {"drop_connection": True}, "get_balance", {}),
    ("order", {"status": 503, "after_effect": True}, "order_number", {"country": "fr", "service": "tg"}),
    ("order", {"body": "truncated", "after_effect": True}, "order_number", {"country": "it", "service": "tg"}),
    ("order", {"drop_connection": True}, "order_number", {"country": "es", "service": "tg"}),
    (
        "order",
        {"delay_seconds": SLOW_SECONDS, "after_effect": True},
        "order_number",
        {"country": "nl", "service": "tg"},
    ),
    ("price", {"body": "not_json", "status": 502}, "check_price", {"country": "us", "service": "wa"}),
]


def wait_until_listening(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(100):
        if process.poll() is not None:
            pytest.fail("the sandbox exited at start")
        try:
            httpx.get(f"{url}/api/v1/user/balance", headers={"X-Api-Key": CANARY}, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    pytest.fail("the sandbox did not start listening")


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """The sandbox on a free loopback port, requiring the canary key, and the file its stderr goes to."""
    log = tmp_path_factory.mktemp("sandbox") / "stderr.log"
    port = free_port()
    environment = base_environment()
    environment["SMS_MCP_SANDBOX_SMS_DELAY_SECONDS"] = "1"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [str(SCRIPT), "sandbox", "--port", str(port), "--api-key", CANARY],
            env=environment,
            stdout=stderr,
            stderr=stderr,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_listening(url, process)
        yield url, log
    finally:
        process.terminate()
        process.wait(timeout=10)


class Transcript:
    """Everything the client received, as text, beside the files holding the server's raw output."""

    def __init__(self, directory: Path) -> None:
        self.stdout = directory / "server-stdout.log"
        self.stderr = directory / "server-stderr.log"
        self.received: list[str] = []

    def parameters(self, sandbox_url: str, data_dir: Path) -> StdioServerParameters:
        environment = base_environment()
        environment.update(
            {
                "PLATFONE_API_KEY": CANARY,
                "PLATFONE_API_URL": f"{sandbox_url}/api/v1",
                "SMS_MCP_DATA_DIR": str(data_dir),
                "SMS_MCP_HTTP_TIMEOUT_SECONDS": str(FLOW_TIMEOUT_SECONDS),
                "SMS_MCP_LOG_LEVEL": "DEBUG",
            }
        )
        # tee copies every byte of the server's stdout, the protocol stream included, into a file.
        command = '"$0" 2>>"$1" | tee -a "$2"'
        return StdioServerParameters(
            command="sh", args=["-c", command, str(SCRIPT), str(self.stderr), str(self.stdout)], env=environment
        )

    async def call(self, client: Client, tool: str, **arguments: Any) -> CallToolResult:
        result = await client.call_tool(tool, arguments)
        self.received.append(result.model_dump_json())
        return result

    async def ok(self, client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
        result = await self.call(client, tool, **arguments)
        assert not result.is_error, result.content
        assert result.structured_content is not None
        return result.structured_content

    async def record_message(self, message: object) -> None:
        self.received.append(repr(message))


async def run_flow(client: Client, transcript: Transcript, control: httpx.AsyncClient) -> None:
    """Drive every tool through success, refusal, bad input and upstream faults."""
    call, ok = transcript.call, transcript.ok
    transcript.received.append(repr(client.instructions))
    transcript.received.append((await client.list_tools()).model_dump_json())

    await ok(client, "get_balance")
    await ok(client, "list_countries", query="United Kingdom")
    await ok(client, "list_services", query="Telegram", limit=3)
    await ok(client, "check_price", country="gb", service="tg")

    order = await ok(client, "order_number", country="United Kingdom", service="Telegram")
    activation_id = order["activation_id"]
    await ok(client, "check_sms", activation_id=activation_id)
    assert (await ok(client, "check_sms", activation_id=activation_id, wait_seconds=15))["sms_code"]
    await ok(client, "retry_activation", activation_id=activation_id)
    await ok(client, "check_sms", activation_id=activation_id, wait_seconds=15)
    await call(client, "cancel_activation", activation_id=activation_id)

    second = await ok(client, "order_number", country="de", service="wa")
    await anyio.sleep(0.7)
    await call(client, "retry_activation", activation_id=second["activation_id"])
    assert (await ok(client, "cancel_activation", activation_id=second["activation_id"]))["status"] == "canceled"

    await call(client, "order_number", country="", service="tg")
    await call(client, "order_number", country="Atlantis", service="Telegram", max_price=-5)
    await call(client, "check_sms", activation_id="../../user/balance")
    await call(client, "check_sms", activation_id="999999999")
    await call(client, "cancel_activation", activation_id="999999999")
    await ok(client, "list_activations")

    third = await ok(client, "order_number", country="pl", service="tg")
    for action in ("cancel", "retry"):
        rule = {"route": action, "status": 503, "after_effect": True, "times": 1}
        (await control.put("/sandbox/faults", json=rule)).raise_for_status()
        await call(client, f"{action}_activation", activation_id=third["activation_id"])

    for route, rule, tool, arguments in FAULT_CASES:
        (await control.put("/sandbox/faults", json={"route": route, "times": 1, **rule})).raise_for_status()
        await call(client, tool, **arguments)

    await ok(client, "get_balance")


async def test_canary_absent_from_stdio_output(sandbox: tuple[str, Path], tmp_path: Path) -> None:
    sandbox_url, sandbox_log = sandbox
    transcript = Transcript(tmp_path)
    control = httpx.AsyncClient(base_url=sandbox_url, headers={"X-Api-Key": CANARY})
    parameters = transcript.parameters(sandbox_url, tmp_path / "data")

    async with (
        control,
        Client(
            parameters,
            read_timeout_seconds=60,
            message_handler=transcript.record_message,
            logging_callback=transcript.record_message,
        ) as client,
    ):
        await run_flow(client, transcript, control)

    stdout = transcript.stdout.read_text()
    stderr = transcript.stderr.read_text()
    assert '"jsonrpc"' in stdout
    assert "ordered activation" in stderr
    assert "retrying GET /user/balance" in stderr
    assert CANARY not in stdout
    assert CANARY not in stderr
    assert "Traceback" not in stderr
    assert not [text for text in transcript.received if CANARY in text]
    assert CANARY not in sandbox_log.read_text()


def canary_response(status: int, error_name: str | None = None, **extra: Any) -> httpx.Response:
    """Build an upstream response that echoes the key, as a careless API might."""
    if error_name is None:
        return httpx.Response(status, text=f"<html>bad request with key {CANARY}</html>")
    return httpx.Response(status, json={"errorName": error_name, "errorMessage": f"rejected key {CANARY}", **extra})


def raise_timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout(f"no answer for {CANARY}", request=request)


def raise_connect_error(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError(f"refused for key {CANARY}", request=request)


ACTIVATION_CALL = ("get_activation", "1")
# Each ProviderError subclass with an upstream behaviour that raises it and the call to make.
ERROR_CASES: dict[type[errors.ProviderError], tuple[Callable[[httpx.Request], httpx.Response], tuple[str, ...]]] = {
    errors.AuthenticationError: (lambda _: canary_response(401, "UnauthorizedException"), ("get_balance",)),
    errors.InsufficientBalanceError: (lambda _: canary_response(402, "NotEnoughFundsException"), ("order",)),
    errors.AccountOnHoldError: (lambda _: canary_response(403, "AccountOnHoldException"), ("order",)),
    errors.ActivationNotFoundError: (lambda _: canary_response(404, "ActivationNotFoundException"), ACTIVATION_CALL),
    errors.MaxPriceExceededError: (
        lambda _: canary_response(409, "MaxPriceExceededException", suggestedPrice=45, orderId="order-1"),
        ("order",),
    ),
    errors.NoNumbersAvailableError: (lambda _: canary_response(400, "NoNumbersAvailableException"), ("order",)),
    errors.TooManyActivationsError: (lambda _: canary_response(400, "TooManyActivationsException"), ("order",)),
    errors.ActionNotAllowedError: (lambda _: canary_response(400, "CancelNotAllowedException"), ("cancel", "1")),
    errors.InvalidRequestError: (lambda _: canary_response(400, "InvalidCountryException"), ("order",)),
    errors.RateLimitedError: (lambda _: canary_response(429, "TooManyRequestsException"), ("get_balance",)),
    errors.UpstreamUnavailableError: (raise_connect_error, ("get_balance",)),
    errors.UpstreamTimeoutError: (raise_timeout, ("get_balance",)),
    errors.InvalidResponseError: (lambda _: canary_response(200), ("get_balance",)),
}


def all_subclasses(cls: type[errors.ProviderError]) -> set[type[errors.ProviderError]]:
    found = set()
    for subclass in cls.__subclasses__():
        found |= {subclass, *all_subclasses(subclass)}
    return found


def test_error_cases_cover_every_subclass() -> None:
    assert set(ERROR_CASES) == all_subclasses(errors.ProviderError)


async def provoke(provider: PlatfoneProvider, call: tuple[str, ...]) -> errors.ProviderError:
    method, *arguments = call
    with pytest.raises(errors.ProviderError) as caught:
        if method == "order":
            await provider.order("us", "tg")
        else:
            await getattr(provider, method)(*arguments)
    return caught.value


@pytest.mark.parametrize("expected", list(ERROR_CASES), ids=lambda cls: cls.__name__)
async def test_provider_error_hides_key(expected: type[errors.ProviderError], caplog: pytest.LogCaptureFixture) -> None:
    respond, call = ERROR_CASES[expected]
    transport = httpx.MockTransport(respond)
    provider = PlatfoneProvider(
        CANARY, "https://platfone.test/api/v1", transport=transport, retry_policy=RetryPolicy(max_attempts=1)
    )
    caplog.set_level(logging.DEBUG)

    async with provider:
        error = await provoke(provider, call)

    assert type(error) is expected
    assert CANARY not in str(error)
    assert CANARY not in repr(error)
    assert CANARY not in error.message
    assert CANARY not in str(provider_failure(error, action="order", activation_id="1"))
    assert CANARY not in caplog.text
    cause = error.__cause__
    assert cause is None or CANARY not in repr(cause)


def test_provider_repr_hides_key() -> None:
    provider = PlatfoneProvider(CANARY, "https://platfone.test/api/v1")

    assert CANARY not in repr(provider)
    assert CANARY not in str(provider)


def test_settings_hide_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLATFONE_API_KEY", CANARY)

    settings = Settings()

    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == CANARY
    assert CANARY not in repr(settings)
    assert CANARY not in str(settings)
    assert CANARY not in settings.model_dump_json()
    assert CANARY not in str(settings.model_dump())
