"""FetchReport's use case: fetch the report, store a snapshot, say whether fetching works.

Gather (state, report) → decide (pure, `shared.core.alerting`) → apply (store, notify). A failing
fetch is announced once in Teams, then only as a reminder every ALERT_REPEAT_HOURS, and once
more when fetching works again; the error is still raised so the host records the failure.

Only a final failure counts: the host retries a failed run (FetchReport/function.json `retry`;
a continuation's queue redelivers it), so a failure that a retry may still heal is logged and
raised, but not announced, and the fetch-health state is left alone. Otherwise a transient 403
would post "fetching fails" and, five minutes later, "works again".

Which report is the composition root's business (REPORT_SOURCE, `app.source`, see
`shared.sources`): this use case asks the source for a report and never branches on which one
it is. A pass that would outlive the function's timeout stores nothing yet: the source hands
back a checkpoint, which goes to ContinueFetch in a queue message and comes back to the same
source; the snapshot is written once, when the pass completes.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from shared.bootstrap import App
from shared.core.alerting import FETCH_HEALTH, AlertState, decide_fetch_health
from shared.core.snapshot import Snapshot, snapshot_key
from shared.errors import (
    ClaimHeldError,
    CredentialError,
    GraphError,
    MessageFormatError,
    NotificationError,
    ReportFormatError,
    StateConflictError,
)
from shared.messages.health import fetch_health_message
from shared.sources import Checkpoint
from shared.tenants.jobs import tenant_messages
from shared.usecases.announcing import Plan, announce
from shared.usecases.enforcing import read_enforcement

log = logging.getLogger(__name__)

# Deciding the fetch health again after another fetch wrote it first: a handful at most.
MAX_HEALTH_DECISIONS = 3
# host.json's extensions.queues.maxDequeueCount: a continuation's last try (a test checks it).
QUEUE_TRIES = 5
CONTINUATIONS = "fetch-continuations"  # ContinueFetch's queue (function.json)


@dataclass(frozen=True)
class Attempt:
    """Which of the host's tries this run is: `retry_count` retries done of `max_retry_count`."""

    retry_count: int = 0
    max_retry_count: int = 0

    @property
    def final(self) -> bool:
        return self.retry_count >= self.max_retry_count

    @classmethod
    def from_retry_context(cls, retry_context: object | None) -> Attempt:
        """The worker's `context.retry_context`; without one, the run is its own last try."""
        if retry_context is None:
            return cls()
        retry_count = getattr(retry_context, "retry_count", 0) or 0
        max_retry_count = getattr(retry_context, "max_retry_count", 0) or 0
        return cls(int(retry_count), int(max_retry_count))

    @classmethod
    def from_dequeue_count(cls, dequeue_count: int) -> Attempt:
        """A queue message's try: its DequeueCount of host.json's maxDequeueCount."""
        return cls(max(dequeue_count - 1, 0), QUEUE_TRIES - 1)


@dataclass(frozen=True)
class FetchOutcome:
    """What FetchReport (or ContinueFetch) hands on: a snapshot to check, or the rest of a pass."""

    check: str | None = None  # the snapshots-to-check message
    continuation: str | None = None  # the fetch-continuations message
    tenants: list[str] | None = None  # TENANTS: the tenants-to-fetch messages, one per tenant


@dataclass(frozen=True)
class _Pass:
    """A v1.0 pass in progress, as the continuation message carries it."""

    fetch_id: str
    started: datetime
    checkpoint: Checkpoint
    tenant_id: str | None = None  # TENANTS: the customer tenant the pass reads

    def to_message(self) -> str:
        body = {
            "fetchId": self.fetch_id,
            "started": self.started.isoformat(),
            "checkpoint": json.loads(self.checkpoint.to_json()),
        }
        return json.dumps(body | ({"tenantId": self.tenant_id} if self.tenant_id else {}))

    @classmethod
    def from_message(cls, body: str) -> _Pass:
        try:
            data = json.loads(body)
            return cls(
                fetch_id=str(data["fetchId"]),
                started=datetime.fromisoformat(data["started"]),
                checkpoint=Checkpoint.from_json(json.dumps(data["checkpoint"])),
                tenant_id=str(data["tenantId"]) if data.get("tenantId") else None,
            )
        except (ValueError, TypeError, KeyError) as exc:
            raise MessageFormatError(
                CONTINUATIONS, f"not a fetch continuation: {body[:200]!r}"
            ) from exc


def fetch_and_store(
    app: App, attempt: Attempt | None = None, *, tenant_id: str | None = None
) -> FetchOutcome:
    """Fetch (or start fetching) one snapshot; store it when complete. With TENANTS and no
    `tenant_id`, fetch nothing: hand one message per tenant to FetchTenant (the platform's
    queue spreads them over instances; shared/usecases/fanout.py)."""
    if tenant_id is None and app.settings.tenants:
        log.info("queueing %d tenants to fetch", len(app.settings.tenants))
        return FetchOutcome(tenants=tenant_messages(app.settings.tenants))
    return _run(app, attempt or Attempt(), None, tenant_id)


def continue_fetch(app: App, message: str, attempt: Attempt | None = None) -> FetchOutcome:
    """Go on with the v1.0 pass a continuation message describes."""
    resumed = _Pass.from_message(message)
    return _run(app, attempt or Attempt(), resumed, resumed.tenant_id)


def _run(app: App, attempt: Attempt, resumed: _Pass | None, tenant_id: str | None) -> FetchOutcome:
    now = app.clock()
    started, fetch_id = (resumed.started, resumed.fetch_id) if resumed else (now, None)
    fetch_id = fetch_id or uuid.uuid4().hex[:12]
    checkpoint = resumed.checkpoint if resumed is not None else None
    try:
        # Inside: a tenant's source first asks the identity's own token (Fleet.home_tenant),
        # and an identity that gives none is a fetch that fails like any other, said as such.
        source = app.source_for(tenant_id) if tenant_id else app.source
        result = source.fetch(checkpoint, deadline=now + app.fetch_budget)
    except (CredentialError, GraphError, ReportFormatError) as exc:
        if not attempt.final:
            log.error(
                "FetchReport failed (try %d of %d; the host retries it): %s",
                attempt.retry_count + 1,
                attempt.max_retry_count + 1,
                exc,
            )
            raise
        log.error("FetchReport failed: %s", exc)
        _announce_fetch_health(app, error=f"{type(exc).__name__}: {exc}", tenant=tenant_id)
        raise
    if isinstance(result, Checkpoint):
        log.info("the pass goes on in a follow-up invocation (ContinueFetch)")
        return FetchOutcome(continuation=_Pass(fetch_id, started, result, tenant_id).to_message())
    snapshot = Snapshot(
        key=snapshot_key(result.tenant_id, started, fetch_id),
        fetched_at=started,
        report=result.report,
        source=result.api,
        # Read once the pass is complete: one or two Graph requests per fetch, none when off.
        enforcement=read_enforcement(app, tenant_id),
    )
    app.snapshots.save_snapshot(snapshot)
    report = result.report
    log.info(
        "stored snapshot %s/%s from %s: %d users, %s",
        snapshot.key.tenant_id,
        snapshot.key.row_key,
        result.api,
        report.total_users,
        ", ".join(f"{status}={count}" for status, count in report.counts.items()) or "no statuses",
    )
    _announce_fetch_health(app, error=None, tenant=tenant_id)
    return FetchOutcome(check=snapshot.key.to_message())


def _announce_fetch_health(app: App, *, error: str | None, tenant: str | None = None) -> None:
    """Decide the fetch health and announce it under a claim (shared/usecases/announcing.py),
    on the state as read once the fetch is over: a fetch may take minutes, and another may
    have said "fails" or "works again" meanwhile (a read from the start would keep quiet where
    it must speak). Two fetches at once neither post the same news twice nor undo each
    other's. One read either way: none is made before the fetch."""

    def decide(prior: AlertState | None) -> Plan[AlertState | None] | None:
        now = app.clock()
        decision = decide_fetch_health(
            prior, error=error, now=now, repeat=app.settings.alert_repeat
        )
        state = decision.states[FETCH_HEALTH]
        if not decision.events:
            if state == prior or (prior is None and not state.firing):
                return None  # unchanged, or fetching has always worked: nothing worth a write
            return Plan(state, state)
        (event,) = decision.events
        told = decision.delivered(now)[FETCH_HEALTH]
        return Plan(state, told, fetch_health_message(event, now))

    try:
        announce(
            app.monitor.fetch_health(tenant),
            decide,
            post=(app.notifier_for(tenant) if tenant else app.notifier).post_message,
            owner=uuid.uuid4().hex[:12],
            clock=app.clock,
            sleep=app.sleep,
            attempts=MAX_HEALTH_DECISIONS,
        )
    except NotificationError as exc:
        # Not raised: a failed fetch raises its own error right after this, and a working
        # fetch must still hand its snapshot over. The state stays "not told", so the next
        # run posts this notice again.
        log.error("could not announce the fetch health in Teams (will retry next run): %s", exc)
    except (StateConflictError, ClaimHeldError) as exc:
        log.error(
            "the fetch health kept changing under this run; it was not stored this time: %s", exc
        )
