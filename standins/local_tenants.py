"""`scripts/local-cycle --tenants N`: the cycle over N synthetic customer tenants (TENANTS).

On top of local-cycle's stand-ins: the Entra stand-in (https on 127.0.0.1, its own throwaway CA)
issues each tenant's token to the multi-tenant app for the managed identity's token, and the
Graph stand-in serves each tenant its own beta report by the token's `tid`, under Graph's
per-tenant and cross-tenant limits. FetchReport queues one message per tenant, FetchTenant and
CheckThresholds run each, as the host would; each tenant's card is printed naming it (unless
TEAMS_WEBHOOK_URL is set), then the weekly roll-up of every tenant.

Every third tenant is below the default 95% of users registered for MFA, so it fires.
"""

from __future__ import annotations

import json
import logging
import os
import uuid

from shared.bootstrap import use_app
from shared.settings import DEFAULT_TENANT_TABLE
from standins.entra import MULTI_TENANT_APP_ID, EntraStandIn
from standins.functions_host import FunctionsHost
from standins.graph import GraphStandIn
from standins.graph_tenants import Tenants
from standins.managed_identity import ManagedIdentityStandIn
from standins.reports import report

log = logging.getLogger("local-cycle")

USERS = 1000


def synthetic_tenants(count: int) -> dict[str, bytes]:
    """`count` tenant ids (stable across runs), each with its own beta report."""
    reports = {}
    for index in range(count):
        tenant = str(uuid.uuid5(uuid.NAMESPACE_URL, f"local-cycle-tenant-{index}"))
        mfa = 900 + index % 7 if index % 3 == 1 else 960 + index % 30
        counts = {"mfaRegistered": mfa, "capable": 950, "registered": 980, "enabled": 990}
        reports[tenant] = json.dumps(report(USERS, counts)).encode()
    return reports


def run_tenants(
    count: int, identity: ManagedIdentityStandIn, graph: GraphStandIn, *, host_sleep: object
) -> bool:
    """One cycle over `count` tenants, then the roll-up digest; True if every tenant's fetch
    and check went through."""
    reports = synthetic_tenants(count)
    graph.tenants = Tenants(reports=reports)
    with EntraStandIn(consented=set(reports), assertions=identity.tokens_issued) as entra:
        os.environ.update(entra.environ)  # azure-identity and the CA bundle, from os.environ
        os.environ.update(
            TENANTS=",".join(reports),
            MULTI_TENANT_APP_ID=MULTI_TENANT_APP_ID,
            TENANT_TABLE=os.environ.get("TENANT_TABLE", DEFAULT_TENANT_TABLE),
        )
        log.info(
            "%d synthetic tenants: TENANTS and MULTI_TENANT_APP_ID set, AZURE_AUTHORITY_HOST is "
            "the Entra stand-in on %s (each tenant's token for the identity's)",
            count,
            entra.url,
        )
        # The cards (and problems) only: the per-metric lines of every tenant would bury them.
        for chatty in ("shared.usecases", "shared.sources", "shared.stores"):
            logging.getLogger(chatty).setLevel(logging.WARNING)
        use_app(None)  # built from these settings, as in Azure
        host = FunctionsHost(os.environ, sleep=host_sleep)  # type: ignore[arg-type]
        cycle = host.run_timer("FetchReport")
        failed = [d for d in cycle.deliveries if d.poisoned]
        for delivery in failed:
            log.error(
                "%s failed %d times: %s", delivery.queue, delivery.attempts, delivery.errors[-1]
            )
        log.info("── the weekly roll-up of %d tenants ──", count)
        host.run_timer("WeeklyDigest")
        served = sum(graph.tenants.served.values())
        log.info(
            "done: %d tenant token(s) from Entra, %d report(s) served, %d 429(s)",
            len(entra.token_requests),
            served,
            graph.tenants.throttled,
        )
    return not failed
