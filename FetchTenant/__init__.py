"""FetchTenant (TENANTS): fetch and store the snapshot of the tenant FetchReport queued.

One message per customer tenant on `tenants-to-fetch`; the snapshot's key goes to
`snapshots-to-check` (CheckThresholds), a long v1.0 pass to `fetch-continuations`. Retries come
from the queue (host.json's maxDequeueCount); only the last try says a failure in Teams.
"""

from __future__ import annotations

import azure.functions as func

from shared.bootstrap import get_app
from shared.redaction import scrub_errors
from shared.usecases.failures import told_in_teams
from shared.usecases.fanout import fetch_tenant
from shared.usecases.fetching import Attempt


@scrub_errors
def main(msg: func.QueueMessage, check: func.Out[str], more: func.Out[str]) -> None:
    attempt = Attempt.from_dequeue_count(msg.dequeue_count or 1)
    with told_in_teams("FetchTenant", attempt, queue="tenants-to-fetch"):
        outcome = fetch_tenant(get_app(), msg.get_body().decode("utf-8"), attempt)
    if outcome.check is not None:
        check.set(outcome.check)
    if outcome.continuation is not None:
        more.set(outcome.continuation)
