"""Shared fixtures: a real Azurite for the session, loopback stand-ins, and a controlled clock.

`cycle` gives each test fresh stand-ins (Graph, managed identity, Teams), its own tables in the
session's Azurite, the environment a deployed app would have, and a clock and a sleep it
controls. Entry points run through their function.json via `cycle.host`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from azure.core.exceptions import ResourceNotFoundError
from azure.data.tables import TableServiceClient

from shared.bootstrap import App, use_app
from shared.retry import RetryPolicy
from shared.settings import AZURE_INSTANCE_SETTINGS, SETTING_NAMES, Settings
from standins.azurite import Azurite
from standins.functions_host import Cycle, FunctionsHost, InvocationFailed
from standins.graph import GraphStandIn
from standins.managed_identity import ManagedIdentityStandIn
from standins.teams import TeamsStandIn

# Settings a deployed app might carry that must not leak into tests from the developer's shell.
_APP_SETTINGS = (
    *SETTING_NAMES,
    # Other managed-identity protocols azure-identity would prefer over the stand-in's.
    "MSI_ENDPOINT",
    "MSI_SECRET",
    "IDENTITY_SERVER_THUMBPRINT",
    # What says "running in Azure" (a webhook is then required): never the test machine's.
    *AZURE_INSTANCE_SETTINGS,
)


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    with Azurite() as running:
        yield running


class Clock:
    """A clock the test moves; sleeping moves it too, and is recorded instead of waited."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)


@contextmanager
def fails_with(
    error: type[BaseException], match: str | None = None
) -> Iterator[pytest.ExceptionInfo[InvocationFailed]]:
    """Expect a function to fail with `error`, as the worker reports it to the host: an
    InvocationFailed whose `message` is `<type name>: <text>` (`match` searches it)."""
    with pytest.raises(InvocationFailed, match=match) as failure:
        yield failure
    assert failure.value.exception_type == error.__name__, failure.value.message


@dataclass
class CycleHarness:
    azurite: Azurite
    graph: GraphStandIn
    identity: ManagedIdentityStandIn
    teams: TeamsStandIn
    clock: Clock
    monkeypatch: pytest.MonkeyPatch
    host: FunctionsHost = field(init=False)
    app: App | None = None

    def __post_init__(self) -> None:
        # The host's retry delays go through the test clock: recorded in clock.sleeps, not waited.
        self.host = FunctionsHost(os.environ, sleep=self.clock.sleep, now=self.clock)

    def configure(self, **settings: str | None) -> App:
        """Set app settings (None removes one) and install a fresh App built from them."""
        for name, value in settings.items():
            if value is None:
                self.monkeypatch.delenv(name, raising=False)
            else:
                self.monkeypatch.setenv(name, value)
        if self.app is not None:
            self.app.close()
        self.app = App(
            Settings.from_env(os.environ),
            clock=self.clock,
            sleep=self.clock.sleep,
            retry=RetryPolicy(max_attempts=4, max_total_wait=60, max_retry_after=30),
            # Short, as loopback answers take milliseconds: a timeout test waits it out on
            # every attempt (four at 2 s were 8 s of the suite).
            http_timeout=httpx.Timeout(1.0),
            storage_options={"retry_total": 1, "retry_backoff_factor": 0.05},
            credential_options={"retry_backoff_factor": 0.01},
        )
        use_app(self.app)
        return self.app

    def use_webhook(self) -> App:
        return self.configure(TEAMS_WEBHOOK_URL=self.teams.webhook_url)

    def run(self) -> Cycle:
        """One scheduled occurrence: FetchReport, retried as its function.json says when it
        fails (then InvocationFailed is raised after the last attempt), then CheckThresholds for
        the message it queued, redelivered up to maxDequeueCount."""
        return self.host.run_timer("FetchReport")

    def run_once(self) -> Cycle:
        """Like `run`, but FetchReport is invoked once, with a first attempt's retry context:
        for tests that count what one invocation does."""
        return self.host.run_timer("FetchReport", retries=False)

    def table(self, setting: str) -> list[dict[str, Any]]:
        """Every entity of the table the app setting `setting` names, read directly."""
        service = TableServiceClient.from_connection_string(self.azurite.connection_string)
        try:
            return list(service.get_table_client(os.environ[setting]).list_entities())
        except ResourceNotFoundError:
            return []  # the app creates its tables on first write

    def snapshots(self) -> list[dict[str, Any]]:
        return self.table("SNAPSHOT_TABLE")


@pytest.fixture
def cycle(azurite: Azurite, monkeypatch: pytest.MonkeyPatch) -> Iterator[CycleHarness]:
    for name in _APP_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    suffix = uuid.uuid4().hex[:12]
    with GraphStandIn() as graph, ManagedIdentityStandIn() as identity, TeamsStandIn() as teams:
        for name, value in identity.environ.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("AzureWebJobsStorage", azurite.connection_string)
        monkeypatch.setenv("GRAPH_ENDPOINT", graph.url)
        monkeypatch.setenv("FETCH_SCHEDULE", "0 0 6 * * *")
        monkeypatch.setenv("DIGEST_SCHEDULE", "0 0 8 * * 1")
        monkeypatch.setenv("SNAPSHOT_TABLE", f"Snapshots{suffix}")
        monkeypatch.setenv("ALERT_TABLE", f"Alerts{suffix}")
        harness = CycleHarness(
            azurite=azurite,
            graph=graph,
            identity=identity,
            teams=teams,
            clock=Clock(datetime(2026, 11, 2, 6, 0, 5, tzinfo=timezone.utc)),
            monkeypatch=monkeypatch,
        )
        harness.configure()
        try:
            yield harness
        finally:
            use_app(None)
            if harness.app is not None:
                harness.app.close()
            service = TableServiceClient.from_connection_string(azurite.connection_string)
            for setting in ("SNAPSHOT_TABLE", "ALERT_TABLE"):
                service.delete_table(os.environ[setting])
