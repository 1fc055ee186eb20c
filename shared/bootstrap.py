"""The composition root: the one place that builds the app's clients and wires them together.

Nothing happens at import. The first invocation builds the settings; each client is built on
first use and then kept for the worker's life, so connections and azure-identity's token cache
survive between invocations (a credential per invocation would fetch a token every run).
Tests and the local cycle install an `App` of their own with `use_app`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cached_property
from typing import Any

import httpx
from azure.core.credentials import TokenCredential
from azure.data.tables import TableServiceClient
from azure.identity import DefaultAzureCredential, ManagedIdentityCredential

from shared import redaction
from shared.core.coverage import population_statuses
from shared.hosting import app_location, quiet_sdk_http_logging
from shared.notify.teams import LogNotifier, Notifier, TeamsWebhook
from shared.retry import RetryPolicy
from shared.settings import Settings, WebhookUrl
from shared.sources import ReportSource
from shared.sources.auto import AutoSource, offers_beta
from shared.sources.beta import BetaSource
from shared.sources.graph_client import GraphClient
from shared.sources.policies import PolicyReader
from shared.sources.v1 import Scope, V1Source, metrics_to_count
from shared.sources.v1.pacing import Pacer
from shared.stores.alerts import AlertStore
from shared.stores.monitor import MonitorStore
from shared.stores.snapshots import SnapshotStore
from shared.stores.tables import Tables
from shared.tenants.fleet import Fleet
from shared.usecases.admin_names import ADMIN_NAMES, AdminLookup
from shared.usecases.announcing import announce_source_switch


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class App:
    settings: Settings
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    clock: Callable[[], datetime] = utc_now
    sleep: Callable[[float], None] = time.sleep
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    http_timeout: httpx.Timeout = field(default_factory=lambda: httpx.Timeout(30.0, connect=10.0))
    # How long one invocation may spend on a v1.0 pass before it hands the rest to a follow-up
    # (ContinueFetch): well inside host.json's functionTimeout of 10 minutes.
    fetch_budget: timedelta = timedelta(minutes=8)
    # azure-core's options for the identity's token requests (its retry policy); tests shorten
    # the backoff so a refused identity endpoint fails in milliseconds, with the same retries.
    credential_options: dict[str, Any] = field(default_factory=dict)
    # azure-core's retry policy for Table Storage: a few quick tries, then a clear StorageError.
    storage_options: dict[str, Any] = field(
        default_factory=lambda: {
            "retry_total": 3,
            "retry_backoff_factor": 0.5,
            "retry_backoff_max": 8,
            "connection_timeout": 10,
            "read_timeout": 30,
        }
    )

    def __post_init__(self) -> None:
        quiet_sdk_http_logging(enabled=self.settings.log_http_requests)
        redaction.install()
        redaction.register_secret(self.environ.get("IDENTITY_HEADER"))
        if self.settings.webhook:
            redaction.register_secret(self.settings.webhook.secret_part)

    @cached_property
    def http(self) -> httpx.Client:
        return httpx.Client(timeout=self.http_timeout, follow_redirects=False)

    @cached_property
    def credential(self) -> TokenCredential:
        client_id = self.settings.azure_client_id
        if self.environ.get("IDENTITY_ENDPOINT") or self.environ.get("MSI_ENDPOINT"):
            # In Azure: the managed identity, never a chain that may pick something else.
            # ManagedIdentityCredential ignores AZURE_CLIENT_ID unless it is passed.
            return ManagedIdentityCredential(client_id=client_id, **self.credential_options)
        # A developer's machine: their `az login` (or other developer credential).
        return DefaultAzureCredential(
            managed_identity_client_id=client_id, **self.credential_options
        )

    @cached_property
    def graph(self) -> GraphClient:
        return GraphClient(
            endpoint=self.settings.graph_endpoint,
            credential=self.credential,
            http=self.http,
            policy=self.retry,
            sleep=self.sleep,
            clock=self.clock,
        )

    @cached_property
    def source(self) -> ReportSource:
        """The report source REPORT_SOURCE names. One per worker: the v1.0 source's pacer
        spans the worker's consecutive passes."""
        return self.build_source(self.graph, v1=self.v1_source)

    def build_source(self, graph: GraphClient, *, v1: V1Source | None = None) -> ReportSource:
        """The source REPORT_SOURCE names, reading through `graph` (one tenant's client)."""
        settings = self.settings
        if settings.report_source == "beta":
            return BetaSource(graph)
        v1 = v1 or self.v1_source_for(graph)
        if settings.report_source == "v1":
            return v1
        return AutoSource(
            beta=BetaSource(graph),
            v1=v1,
            state=self.monitor,
            announce=self.announce_source_switch,
            clock=self.clock,
            beta_offered=offers_beta(settings.graph_endpoint),
        )

    @cached_property
    def fleet(self) -> Fleet:
        """TENANTS: each customer tenant's credential, source and overrides (shared/tenants)."""
        return Fleet(self)

    def source_for(self, tenant_id: str) -> ReportSource:
        return self.fleet.source_for(tenant_id)

    def settings_for(self, tenant_id: str) -> Settings:
        """The settings a tenant is checked with: its overrides applied (TENANTS only)."""
        return self.fleet.settings_for(tenant_id) if self.settings.tenants else self.settings

    def notifier_for(self, tenant_id: str) -> Notifier:
        """Where a tenant's cards go: with TENANTS, its webhook or the default, naming it."""
        return self.fleet.notifier_for(tenant_id) if self.settings.tenants else self.notifier

    def policies_for(self, tenant_id: str) -> PolicyReader:
        """What a tenant enforces is read with its own token (TENANTS), or the identity's."""
        return self.fleet.policies_for(tenant_id) if self.settings.tenants else self.policies

    def admin_lookup_for(self, tenant_id: str) -> AdminLookup | None:
        """The admins a tenant's card names are that tenant's (TENANTS), or the own tenant's."""
        if self.settings.tenants:
            return self.fleet.admin_lookup_for(tenant_id)
        return self.admin_lookup

    @cached_property
    def policies(self) -> PolicyReader:
        """Security defaults and Conditional Access (read only with CHECK_ENFORCEMENT=true)."""
        return PolicyReader(self.graph)

    @cached_property
    def v1_source(self) -> V1Source:
        """The v1.0 source (REPORT_SOURCE v1, or auto's successor), one per worker."""
        return self.v1_source_for(self.graph)

    def v1_source_for(
        self, graph: GraphClient, *, pacer: Pacer | None = None, settings: Settings | None = None
    ) -> V1Source:
        """A v1.0 source reading through `graph`, counting what `settings` (a tenant's own,
        with TENANTS; else the app's) name."""
        settings = settings or self.settings
        return V1Source(
            graph,
            pacer=pacer,
            scope=Scope.of(
                include_guests=settings.include_guests, exclude_users=settings.exclude_users
            ),
            # $count can stand in for paging only if it gives what the checks read.
            count_metrics=metrics_to_count({*settings.thresholds, *settings.maximums}),
            populations=population_statuses([*settings.thresholds, *settings.maximums]),
        )

    @cached_property
    def admin_lookup(self) -> AdminLookup | None:
        """With ALERT_NAME_ADMINS=true, how a check asks Graph for a few admins without MFA
        when its card is about to name them (shared/usecases/admin_names.py); else None."""
        if not self.settings.alert_name_admins:
            return None
        v1 = self.v1_source
        return lambda: v1.list_admins_without_mfa(ADMIN_NAMES)

    @cached_property
    def tables(self) -> Tables:
        storage = self.settings.storage
        if storage.connection_string:
            service = TableServiceClient.from_connection_string(
                storage.connection_string, **self.storage_options
            )
        else:
            assert storage.table_endpoint is not None  # Settings guarantees one of the two
            service = TableServiceClient(
                endpoint=storage.table_endpoint,
                credential=self._storage_credential(),
                **self.storage_options,
            )
        return Tables(service, described=storage.described)

    @cached_property
    def snapshots(self) -> SnapshotStore:
        return SnapshotStore(self.tables, self.settings.snapshot_table)

    @cached_property
    def alerts(self) -> AlertStore:
        return AlertStore(self.tables, self.settings.alert_table)

    @cached_property
    def monitor(self) -> MonitorStore:
        """The monitor's own state (fetch health, the source switch, digests), in ALERT_TABLE."""
        return MonitorStore(self.tables, self.settings.alert_table)

    @cached_property
    def announce_source_switch(self) -> Callable[[str, datetime], bool]:
        """`announce(reason, now)` for REPORT_SOURCE=auto's move to v1.0: claim, post, record."""
        return announce_source_switch(
            self.monitor, self.notifier, clock=self.clock, sleep=self.sleep
        )

    @cached_property
    def notifier(self) -> Notifier:
        if self.settings.webhook is None:
            return LogNotifier()
        return self.teams_webhook(self.settings.webhook)

    def teams_webhook(self, url: WebhookUrl) -> Notifier:
        """A notifier posting to `url` (TEAMS_WEBHOOK_URL, or a tenant's own webhook)."""
        return TeamsWebhook(
            url,
            http=self.http,
            policy=self.retry,
            sleep=self.sleep,
            clock=self.clock,
            location=app_location(self.environ),
            card_version=self.settings.card_version,
        )

    def close(self) -> None:
        """Close the connections this App opened (tests and tools; a worker keeps them)."""
        if "fleet" in self.__dict__:
            self.fleet.close()
        if "http" in self.__dict__:
            self.http.close()

    def _storage_credential(self) -> TokenCredential:
        storage_client_id = self.settings.storage.client_id
        if storage_client_id and storage_client_id != self.settings.azure_client_id:
            return ManagedIdentityCredential(client_id=storage_client_id, **self.credential_options)
        return self.credential


_app: App | None = None
_lock = threading.Lock()


def get_app() -> App:
    """The worker's App, built from os.environ on first use (ConfigurationError if invalid)."""
    global _app
    with _lock:
        if _app is None:
            _app = App(Settings.from_env(os.environ))
        return _app


def use_app(app: App | None) -> None:
    """Install `app` for the entry points to use (None: build from os.environ next time)."""
    global _app
    with _lock:
        _app = app
