"""WeeklyDigest's use case: one summary card per scheduled occurrence, even when nothing changed.

Gather (the newest snapshot of the last 30 days, the one before it, the alert states and the
daily series, the fetch health) → build the card
(pure, `shared.messages.digest.digest_message`) → claim the occurrence and post.

What fired or resolved during the week is read from the alert states, not from a log of
notices: a state records when it last changed (`since`) and whether people were told
(`last_told`), which says "fired on …", "still firing since …" and "resolved on …" without
another table to keep and prune. What it cannot say is a metric that fired *and* resolved
twice in one week: the digest names its last resolution only; every notice was posted at the
time anyway.

Once per occurrence, under a claim (shared/usecases/announcing.py): before posting, a row keyed
by the occurrence is inserted (insert-only) in ALERT_TABLE; whoever inserts it posts and then
marks it posted, a host retry after a successful post or a second instance finds it and posts
nothing. A post that fails deletes the row again and raises, so the host's retry posts the
digest. The claim lapses after DIGEST_LEASE (an hour: far longer than a post, and than the
host's retries, 5 and 10 minutes later): within it, the digest is posted at most once. A run
that finds the claim held, by a run that died between the post and its record or whose claim
could not be released after a failed post, fails loudly (ClaimHeldError: the host's last retry
says in Teams that the digest may not have been posted, and until when the claim holds); once
it lapses, running WeeklyDigest again for the occurrence posts it. The cost of never losing a
week's digest silently: one that was posted but whose record failed may be posted again, by
hand, after the hour.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from shared.bootstrap import App
from shared.core.alerting import AlertState
from shared.core.coverage import Reading, readings
from shared.core.trends import HISTORY_DAYS, Trend, series_trends
from shared.errors import ClaimHeldError, StateConflictError
from shared.messages.digest import digest_message
from shared.messages.model import Message
from shared.stores.records import Claim
from shared.usecases.announcing import Plan, announce
from shared.usecases.rollup import rollup_of
from shared.usecases.series import series_with

log = logging.getLogger(__name__)

# How long a digest's claim holds (see the module's doc).
DIGEST_LEASE = timedelta(hours=1)


def occurrence_of(schedule_status: Mapping[str, Any] | None) -> datetime | None:
    """The occurrence a timer run is for: the schedule status's `Next`, as the host records it
    before the run (the same in the host's retries of that run). None if the host sent none
    (a first run without the timer monitor's record)."""
    raw = (schedule_status or {}).get("Next")
    if not raw:
        return None
    try:
        when = datetime.fromisoformat(str(raw))
    except ValueError:
        log.warning("the timer's schedule status has an unreadable Next: %r", raw)
        return None
    if when.tzinfo is None:  # the host writes UTC, sometimes without an offset
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc)


def send_digest(app: App, occurrence: datetime | None) -> bool:
    """Post the digest of `occurrence` unless it was posted already; True if posted now."""
    if app.settings.digest_schedule is None:
        log.info("DIGEST_SCHEDULE is empty: the weekly digest is turned off, nothing is posted")
        return False
    now = app.clock()
    # Without the host's occurrence, the hour stands for it: the host's retries come 5 and 10
    # minutes later, within the same hour but for a schedule at :55.
    key = occurrence or now.replace(minute=0, second=0, microsecond=0)
    name = f"{key:%Y-%m-%dT%H:%M:%SZ}"

    # TENANTS: every tenant in one card (shared/usecases/rollup.py); otherwise the one tenant.
    message = rollup_of(app, now) if app.settings.tenants else _digest_of(app, now)

    def decide(posted: bool) -> Plan[bool] | None:
        return None if posted else Plan(False, True, message)

    try:
        outcome = announce(
            app.monitor.digest(name),
            decide,
            post=app.notifier.post_message,
            owner=uuid.uuid4().hex[:12],
            clock=app.clock,
            sleep=app.sleep,
            lease=DIGEST_LEASE,  # at most once within it; then a run that died is taken over
            busy=lambda claim: _held(name, claim),
            attempts=2,  # an insert that lost the race reads the winner's claim once
        )
    except StateConflictError as exc:
        log.info("the weekly digest of %s is being posted by another instance: %s", name, exc)
        return False
    if not outcome.posted:
        log.info("the weekly digest of %s was posted already (a retry or another instance)", name)
        return False
    log.info("posted the weekly digest of %s: %s", name, message.title)
    return True


def _held(name: str, claim: Claim) -> ClaimHeldError:
    """Raised, not logged: the claim's owner may have died, and then this week's digest is not
    posted unless someone runs WeeklyDigest again once the claim lapses."""
    until = claim.since + DIGEST_LEASE
    return ClaimHeldError(
        f"the weekly digest of {name} is claimed by run {claim.owner} since "
        f"{claim.since:%Y-%m-%d %H:%M} UTC and not recorded as posted: if it is not in Teams, "
        f"run WeeklyDigest again after {until:%Y-%m-%d %H:%M} UTC, when the claim lapses"
    )


def _digest_of(app: App, now: datetime) -> Message:
    """The digest of the one tenant the app watches: its identity's, whose snapshots are
    stored."""
    newest = app.snapshots.newest_snapshot(since=now - timedelta(days=HISTORY_DAYS))
    settings = app.settings
    states: Mapping[str, AlertState] = {}
    trend: Mapping[str, Trend] = {}
    current: list[Reading] = []
    if newest is not None:
        alerts = app.alerts.get_states(newest.key.tenant_id).state
        states = alerts.states
        # The newest snapshot's own check may not have run yet: its day is added here too.
        trend = series_trends(series_with(app.snapshots, newest, alerts.series))
        previous = app.snapshots.previous_snapshot(newest.key)
        current = readings(
            newest.report,
            settings.thresholds,
            previous.report if previous is not None else None,
            settings.maximums,
        )
    return digest_message(
        now=now,
        newest=newest,
        readings=current,
        trends=trend,
        states=states,
        fetch_health=app.monitor.get_monitor().fetch_health.state,
    )
