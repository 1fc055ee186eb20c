"""The customer tenants' parts, built on first use and kept for the worker's life (TENANTS).

One ReportSource per tenant (its own GraphClient with that tenant's credential, and so its own
v1.0 pacer at 5 requests per 10 s), all of them behind one cross-tenant budget; the app's own
tenant, if listed, is read as without TENANTS: with the managed identity's own token and the
App's own source. The overrides come from TENANT_TABLE (shared/tenants/directory.py).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from shared.notify.teams import Notifier
from shared.settings import Settings
from shared.sources import ReportSource
from shared.sources.graph_client import GraphClient, tenant_of
from shared.tenants.budget import CrossTenantBudget
from shared.tenants.credentials import TenantCredentials
from shared.tenants.directory import TenantDirectory, TenantProfile
from shared.tenants.naming import TenantNotifier

if TYPE_CHECKING:
    from shared.bootstrap import App


class Fleet:
    def __init__(self, app: App) -> None:
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
        self._sources: dict[str, ReportSource] = {}
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
        with self._lock:
            source = self._sources.get(tenant_id)
            if source is None:
                app = self._app
                graph = GraphClient(
                    endpoint=app.settings.graph_endpoint,
                    credential=self.credentials.for_tenant(tenant_id),
                    http=app.http,
                    policy=app.retry,
                    sleep=app.sleep,
                    clock=app.clock,
                    before_send=self.budget.wait,
                )
                source = self._sources[tenant_id] = app.build_source(graph)
            return source

    def profile(self, tenant_id: str) -> TenantProfile:
        return self.directory.profile(tenant_id)

    def settings_for(self, tenant_id: str) -> Settings:
        return self.profile(tenant_id).settings(self._app.settings)

    def notifier_for(self, tenant_id: str) -> Notifier:
        return TenantNotifier(self._app.notifier, self.profile(tenant_id))

    def consent_url(self, tenant_id: str) -> str:
        return self.credentials.consent_url(tenant_id)

    def close(self) -> None:
        self.credentials.close()
