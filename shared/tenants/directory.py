"""Per-tenant overrides, in the table the app owns (TENANT_TABLE, default `Tenants`).

    PartitionKey  "tenant"
    RowKey        the tenant id (a GUID)
    DisplayName   how cards name the tenant (optional; the id otherwise)
    Thresholds    the tenant's THRESHOLDS, in the same syntax (optional; THRESHOLDS otherwise)
    WebhookSecret the *name* of the Key Vault secret (in KEY_VAULT_URL) holding the tenant's
                  Teams webhook (optional; TEAMS_WEBHOOK_URL otherwise)

No secret is kept here: the webhook itself is read from Key Vault with the app's identity
(shared/tenants/webhooks.py), never from a plain column. The table is read whole, once per
`ttl` per worker: a row costs no Table request per tenant fetch or check, and an edit shows
within `ttl`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from shared import setting_values as values
from shared.core.coverage import parse_limits
from shared.errors import ConfigurationError
from shared.settings import Settings
from shared.stores.tables import Tables

PARTITION = "tenant"
log = logging.getLogger(__name__)

MAX_NAME_CHARS = 80


@dataclass(frozen=True)
class TenantProfile:
    tenant_id: str
    display_name: str | None = None
    thresholds: str | None = None  # THRESHOLDS syntax; validated when read
    webhook_secret: str | None = None  # a Key Vault secret's name, never the webhook
    problem: str | None = None  # why this row cannot be used (its Thresholds do not parse)

    @property
    def label(self) -> str:
        """`Contoso (2b9c…-…)`, or the id alone."""
        if self.display_name:
            return f"{self.display_name} ({self.tenant_id})"
        return self.tenant_id

    def settings(self, base: Settings) -> Settings:
        """`base` with this tenant's thresholds, if it has its own; ConfigurationError naming
        the row if they are invalid (this tenant's runs fail and say so; the others go on)."""
        if self.problem is not None:
            raise ConfigurationError([self.problem])
        if not self.thresholds:
            return base
        limits = parse_limits(self.thresholds)
        # The rules THRESHOLDS follows apply to a row's too (populations need REPORT_SOURCE=v1).
        problems = values.population_problems(limits, base.report_source, base.include_guests)
        if problems:
            where = f"the tenant row {self.tenant_id}: Thresholds"
            raise ConfigurationError([f"{where}: {problem}" for problem in problems])
        return replace(base, thresholds=limits.minimums, maximums=limits.maximums)


@dataclass
class TenantDirectory:
    tables: Tables
    table_name: str
    clock: Callable[[], datetime]
    ttl: timedelta = timedelta(minutes=5)
    _profiles: dict[str, TenantProfile] = field(default_factory=dict)
    _read_at: datetime | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def profile(self, tenant_id: str) -> TenantProfile:
        """The tenant's overrides (none: a profile of its id alone). A row whose Thresholds do
        not parse carries its `problem`: one bad row must not stop every other tenant."""
        with self._lock:
            now = self.clock()
            if self._read_at is None or now - self._read_at >= self.ttl:
                self._profiles = self._read()
                self._read_at = now
            return self._profiles.get(tenant_id) or TenantProfile(tenant_id)

    def _read(self) -> dict[str, TenantProfile]:
        rows = self.tables.query(
            self.table_name, "read the tenants' overrides", "PartitionKey eq @pk", pk=PARTITION
        )
        profiles = {}
        for row in rows:
            profile = _profile(row)
            problem = _thresholds_problem(profile, self.table_name)
            if problem is not None:
                log.error("%s", problem)
                profile = replace(profile, problem=problem)
            profiles[profile.tenant_id] = profile
        return profiles


def _thresholds_problem(profile: TenantProfile, table_name: str) -> str | None:
    if not profile.thresholds:
        return None
    where = f"the {table_name} table's row {profile.tenant_id}: Thresholds"
    try:
        parse_limits(profile.thresholds)
    except ValueError as exc:
        return f"{where}: {exc}; fix that row (this tenant is not checked until then)"
    return None


def _profile(row: Mapping[str, Any]) -> TenantProfile:
    name = str(row.get("DisplayName") or "").strip()[:MAX_NAME_CHARS] or None
    thresholds = str(row.get("Thresholds") or "").strip() or None
    secret = str(row.get("WebhookSecret") or "").strip() or None
    return TenantProfile(str(row["RowKey"]).lower(), name, thresholds, secret)
