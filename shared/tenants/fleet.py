"""The customer tenants' parts (TENANTS): the composition root's share for many tenants.

Per tenant: its credential (the multi-tenant app, the identity's token as its assertion), its
GraphClient, its ReportSource (so its own v1.0 pacer at 5 requests per 10 s), the PolicyReader
for CHECK_ENFORCEMENT and the admin lookup for ALERT_NAME_ADMINS, all reading that tenant with
that tenant's token; every tenant's requests go through one cross-tenant budget. They are
built on first use and kept in a small LRU (shared/tenants/cache.py): the working set keeps
one credential per tenant for the worker's life, and memory stays flat in the number of
tenants; an evicted tenant's credential is closed, and its pacer's last sends are kept while
they still hold Graph's window, so a tenant built again never outpaces it.

The app's own tenant, if listed, is read as without TENANTS: with the managed identity's own
token and the App's own parts. Overrides come from TENANT_TABLE (shared/tenants/directory.py),
cards go to the tenant's webhook or the default one (shared/tenants/webhooks.py).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from shared.notify.teams import Notifier
from shared.settings import Settings
from shared.sources import ReportSource
from shared.sources.graph_client import GraphClient, tenant_of
from shared.sources.policies import PolicyReader
from shared.sources.v1 import V1Source
from shared.sources.v1.pacing import Pacer
from shared.tenants.budget import CrossTenantBudget
from shared.tenants.cache import MAX_CACHED_TENANTS, LruCache
from shared.tenants.credentials import TenantCredential, TenantCredentials
from shared.tenants.directory import TenantDirectory, TenantProfile
from shared.tenants.key_vault import KeyVaultSecrets
from shared.tenants.webhooks import TenantWebhooks
from shared.usecases.admin_names import ADMIN_NAMES, AdminLookup

if TYPE_CHECKING:
    from shared.bootstrap import App


_KEY_SEPARATOR = "\n"  # between a tenant id and its thresholds in the parts' cache key


@dataclass(frozen=True)
class TenantParts:
    """One customer tenant's clients, all with its own credential."""

    credential: TenantCredential
    graph: GraphClient
    v1: V1Source
    source: ReportSource
    pacer: Pacer


class Fleet:
    def __init__(self, app: App, *, capacity: int = MAX_CACHED_TENANTS) -> None:
        settings = app.settings
        if not settings.multi_tenant_app_id:  # Settings refuses TENANTS without it
            raise RuntimeError("the fleet of tenants needs MULTI_TENANT_APP_ID")
        self._app = app
        self.credentials = TenantCredentials(
            app_id=settings.multi_tenant_app_id, identity=app.credential, environ=app.environ
        )
        self.budget = CrossTenantBudget(
            instances=settings.max_instance_count,
            clock=lambda: app.clock().timestamp(),
            sleep=app.sleep,
        )
        self.directory = TenantDirectory(app.tables, settings.tenant_table, app.clock)
        self.parts: LruCache[TenantParts] = LruCache(capacity=capacity, on_evict=self._evicted)
        # Evicted tenants' pacers whose sends are still in Graph's window (a few at most).
        self._pacers: dict[str, Pacer] = {}
        self._home: str | None = None
        self._lock = threading.Lock()

    def home_tenant(self) -> str:
        """The managed identity's own tenant: its token's `tid` (azure-identity caches it)."""
        if self._home is None:
            self._home = tenant_of(self._app.graph.token())
        return self._home

    def source_for(self, tenant_id: str) -> ReportSource:
        if tenant_id == self.home_tenant():
            return self._app.source
        return self._parts(tenant_id).source

    def policies_for(self, tenant_id: str) -> PolicyReader:
        """CHECK_ENFORCEMENT: the tenant's own security defaults and Conditional Access."""
        if tenant_id == self.home_tenant():
            return self._app.policies
        return PolicyReader(self._parts(tenant_id).graph)

    def admin_lookup_for(self, tenant_id: str) -> AdminLookup | None:
        """ALERT_NAME_ADMINS: a few of the tenant's own admins without MFA, asked of its Graph."""
        if not self._app.settings.alert_name_admins:
            return None
        if tenant_id == self.home_tenant():
            return self._app.admin_lookup

        def lookup() -> tuple[str, ...]:
            return self._parts(tenant_id).v1.list_admins_without_mfa(ADMIN_NAMES)

        return lookup

    def profile(self, tenant_id: str) -> TenantProfile:
        return self.directory.profile(tenant_id)

    def settings_for(self, tenant_id: str) -> Settings:
        return self.profile(tenant_id).settings(self._app.settings)

    def notifier_for(self, tenant_id: str) -> Notifier:
        return self.webhooks.notifier_for(self.profile(tenant_id))

    @cached_property
    def webhooks(self) -> TenantWebhooks:
        app = self._app
        url = app.settings.key_vault_url
        vault = (
            KeyVaultSecrets(vault_url=url, credential=app.credential, http=app.http)
            if url
            else None
        )
        return TenantWebhooks(
            default=app.notifier,
            vault=None if app.settings.alerts_to_log_only else vault,
            webhook=app.teams_webhook,
            clock=app.clock,
        )

    def consent_url(self, tenant_id: str) -> str:
        return self.credentials.consent_url(tenant_id)

    def close(self) -> None:
        self.parts.clear()
        self.credentials.close()

    def _parts(self, tenant_id: str) -> TenantParts:
        # Keyed by the tenant's own thresholds too: its v1.0 source counts what they name
        # (populations, the $count shortcut), so a changed row builds its parts again.
        profile = self.profile(tenant_id)
        settings = profile.settings(self._app.settings)  # ConfigurationError for a bad row
        key = f"{tenant_id}{_KEY_SEPARATOR}{profile.thresholds or ''}"
        return self.parts.get_or_build(key, lambda: self._build(tenant_id, settings))

    def _build(self, tenant_id: str, settings: Settings) -> TenantParts:
        app = self._app
        credential = self.credentials.new(tenant_id)
        graph = GraphClient(
            endpoint=app.settings.graph_endpoint,
            credential=credential,
            http=app.http,
            policy=app.retry,
            sleep=app.sleep,
            clock=app.clock,
            before_send=self.budget.wait,
        )
        with self._lock:
            pacer = self._pacers.pop(tenant_id, None)
        pacer = pacer or Pacer(clock=lambda: app.clock().timestamp(), sleep=app.sleep)
        v1 = app.v1_source_for(graph, pacer=pacer, settings=settings)
        return TenantParts(credential, graph, v1, app.build_source(graph, v1=v1), pacer)

    def _evicted(self, key: str, parts: TenantParts) -> None:
        tenant_id = key.partition(_KEY_SEPARATOR)[0]
        parts.credential.close()
        with self._lock:
            for tenant in [t for t, pacer in self._pacers.items() if pacer.idle()]:
                del self._pacers[tenant]
            if not parts.pacer.idle():
                self._pacers[tenant_id] = parts.pacer
