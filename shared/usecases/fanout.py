"""FetchTenant's use case (TENANTS): fetch and store one customer tenant's snapshot.

FetchReport's timer queues one `tenants-to-fetch` message per tenant (shared/usecases/fetching's
`fetch_and_store`); the platform spreads them over instances, each invocation fetching one
tenant with that tenant's credential and source (App.source_for) and handing the snapshot to
CheckThresholds as FetchReport does. Fetch health is the tenant's own (a tenant whose consent
was revoked is its own "fetching fails" card, naming it, with its admin-consent link); a
failure raises, so the queue redelivers that tenant's message alone and every other goes on.
"""

from __future__ import annotations

from shared.bootstrap import App
from shared.errors import MessageFormatError, ReportFormatError
from shared.tenants.jobs import TenantJob
from shared.usecases.fetching import Attempt, FetchOutcome, fetch_and_store

TENANTS_TO_FETCH = "tenants-to-fetch"  # FetchTenant's queue (function.json)


def fetch_tenant(app: App, message: str, attempt: Attempt | None = None) -> FetchOutcome:
    try:
        job = TenantJob.from_message(message)
    except ReportFormatError as exc:  # the message's, not a report's: said as such
        raise MessageFormatError(TENANTS_TO_FETCH, exc.problem) from exc
    return fetch_and_store(app, attempt, tenant_id=job.tenant_id)
