"""Many tenants on the Graph stand-in: a beta report per tenant, by the bearer token's `tid`, and
Graph's identity-report limits per app and tenant and per app across all tenants
(https://learn.microsoft.com/graph/throttling-limits#identity-and-access-reports-service-limits:
"Limit per app for all tenants: 122 requests per 10 seconds; limit per app per tenant: five
requests per 10 seconds"), each answered with Graph's 429 and a Retry-After. Conditional Access
and security defaults per tenant too (`conditional_access`, by tenant id; a tenant not listed
gets the stand-in's own `conditional_access`): what each tenant enforces is its own. Those
paths are not identity reports, so neither limit counts them.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from standins.conditional_access import ConditionalAccessService
from standins.graph import RateLimit
from standins.loopback import Reply


@dataclass
class Tenants:
    """The beta report per tenant (`reports`, by tenant id; a tenant not listed gets the
    stand-in's `report_body`) and Graph's limits: `per_tenant` requests per `window` for each
    app and tenant, `across` for the app across all tenants (None: that limit is off)."""

    reports: dict[str, bytes] = field(default_factory=dict)
    per_tenant: int | None = 5
    across: int | None = 122
    window: float = 10.0
    clock: Callable[[], float] = time.monotonic
    # Tenants whose report Graph refuses, with its answer (a permission not granted: 403
    # Authorization_RequestDenied; no P1/P2 licence: 403
    # Authentication_RequestFromNonPremiumTenantOrB2CTenant).
    refusals: dict[str, Reply] = field(default_factory=dict)
    served: dict[str, int] = field(default_factory=dict)  # 200s answered, by tenant
    conditional_access: dict[str, ConditionalAccessService] = field(default_factory=dict)
    _limits: dict[str, RateLimit] = field(default_factory=dict)
    _across: RateLimit | None = None

    def admit(self, tenant: str) -> Reply | None:
        """None if the request may go on, else Graph's 429 (the tighter limit first)."""
        if self.per_tenant is not None:
            limit = self._limits.setdefault(
                tenant, RateLimit(limit=self.per_tenant, window=self.window, clock=self.clock)
            )
            refused = limit.admit()
            if refused is not None:
                return refused
        if self.across is not None:
            if self._across is None:
                self._across = RateLimit(limit=self.across, window=self.window, clock=self.clock)
            return self._across.admit()
        return None

    def policies_of(self, authorization: str) -> ConditionalAccessService | None:
        """The Conditional Access of the token's tenant, if it has its own."""
        return self.conditional_access.get(self.tenant_of(authorization))

    @staticmethod
    def tenant_of(authorization: str) -> str:
        return token_tenant(authorization) or ""

    @property
    def throttled(self) -> int:
        """429s answered, by either limit."""
        return sum(limit.throttled for limit in self._limits.values()) + (
            self._across.throttled if self._across else 0
        )


def token_tenant(authorization: str) -> str | None:
    """The `tid` claim of a bearer token (the stand-ins' tokens are unsigned JWTs)."""
    try:
        payload = authorization.removeprefix("Bearer ").split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError, binascii.Error):
        return None
    tenant = claims.get("tid") if isinstance(claims, dict) else None
    return tenant if isinstance(tenant, str) else None
