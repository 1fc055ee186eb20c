"""The tenants-to-fetch queue's message: which tenant FetchTenant fetches (no user data)."""

from __future__ import annotations

import json
from dataclasses import dataclass

from shared import setting_values
from shared.errors import ReportFormatError


@dataclass(frozen=True)
class TenantJob:
    tenant_id: str

    def to_message(self) -> str:
        return json.dumps({"tenantId": self.tenant_id})

    @classmethod
    def from_message(cls, body: str) -> TenantJob:
        try:
            return cls(setting_values.guid(str(json.loads(body)["tenantId"])))
        except (ValueError, TypeError, KeyError) as exc:
            raise ReportFormatError(
                "tenants-to-fetch", f"not a tenant to fetch: {body[:200]!r}"
            ) from exc


def tenant_messages(tenants: tuple[str, ...]) -> list[str]:
    """One message per tenant, for FetchReport's `tenants` output (a list: one message each)."""
    return [TenantJob(tenant).to_message() for tenant in tenants]
