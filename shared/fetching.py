"""FetchReport's use case: fetch the report, store a snapshot, say whether fetching works.

Gather (state, report) → decide (pure, `shared.alerting`) → apply (store, notify). A failing
fetch is announced once in Teams, then only as a reminder every ALERT_REPEAT_HOURS, and once
more when fetching works again; the error is still raised so the host records the failure.

Only a final failure counts: the host retries a failed run (FetchReport/function.json `retry`),
so a failure that a retry may still heal is logged and raised, but not announced, and the
fetch-health state is left alone. Otherwise a transient 403 would post "fetching fails" and,
five minutes later, "works again".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from shared.alerting import FETCH_HEALTH, AlertState, decide_fetch_health
from shared.bootstrap import App
from shared.cards import fetch_health_message
from shared.errors import CredentialError, GraphError, NotificationError, ReportFormatError
from shared.snapshot import Snapshot, snapshot_key

log = logging.getLogger(__name__)


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


def fetch_and_store(app: App, attempt: Attempt | None = None) -> str:
    """Fetch and store one snapshot; return the queue message that names it."""
    attempt = attempt or Attempt()
    now = app.clock()
    health = app.alerts.get_fetch_health()
    try:
        fetched = app.graph.fetch_report()
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
        _announce_fetch_health(app, health, error=f"{type(exc).__name__}: {exc}")
        raise
    report = fetched.report
    snapshot = Snapshot(key=snapshot_key(fetched.tenant_id, now), fetched_at=now, report=report)
    app.snapshots.save_snapshot(snapshot)
    log.info(
        "stored snapshot %s/%s: %d users, %s",
        snapshot.key.tenant_id,
        snapshot.key.row_key,
        report.total_users,
        ", ".join(f"{status}={count}" for status, count in report.counts.items()) or "no statuses",
    )
    _announce_fetch_health(app, health, error=None)
    return snapshot.key.to_message()


def _announce_fetch_health(app: App, prior: AlertState | None, *, error: str | None) -> None:
    now = app.clock()
    decision = decide_fetch_health(prior, error=error, now=now, repeat=app.settings.alert_repeat)
    stored = decision.states
    try:
        for event in decision.events:
            app.notifier.post_message(fetch_health_message(event, now))
        stored = decision.delivered(now)
    except NotificationError as exc:
        # Not raised: a failed fetch raises its own error right after this, and a working fetch
        # must still hand its snapshot over. The state stays "not told", so the next run posts
        # this notice again.
        log.error("could not announce the fetch health in Teams (will retry next run): %s", exc)
    if prior is None and not stored[FETCH_HEALTH].firing and not decision.events:
        return  # fetching has always worked: nothing worth a write
    if stored[FETCH_HEALTH] != prior:
        app.alerts.save_fetch_health(stored[FETCH_HEALTH])
