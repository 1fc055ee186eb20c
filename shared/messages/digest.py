"""The weekly digest: every metric with its trend, and the week's story above it (pure).

Posted even when nothing changed. What fired or resolved during the week is read from the
alert states (shared/usecases/digest.py gathers them); the last line is the monitor's own
health: its last successful fetch, and whether fetching fails. Never green on old data: a
newest snapshot older than STALE_AFTER (shared/core/snapshot.py) is "not fetching", in the
title, even when no fetch failure was recorded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from shared.core.alerting import (
    CONFIG_HEALTH,
    ENFORCEMENT_STATES,
    FETCH_HEALTH,
    NO_USERS,
    AlertState,
)
from shared.core.coverage import Reading, label
from shared.core.snapshot import Snapshot, stale_days
from shared.core.trends import Trend
from shared.messages.enforcement import (
    digest_firing_line,
    digest_label,
    digest_title,
    enforcement_facts,
)
from shared.messages.model import Message
from shared.messages.wording import chart_series, duration, metric_row


def digest_message(
    *,
    now: datetime,
    newest: Snapshot | None,
    readings: Sequence[Reading],
    trends: Mapping[str, Trend],
    states: Mapping[str, AlertState],
    fetch_health: AlertState | None,
    week: timedelta = timedelta(days=7),
) -> Message:
    """The weekly summary, posted even when nothing changed: every metric with its trend, what
    fired or resolved during the `week` before `now` (read from the alert states: see
    shared/usecases/digest.py) and the monitor's own health."""
    start = now - week
    firing = sorted((s for s in states.values() if s.firing), key=lambda s: s.name)
    resolved = [
        s
        for s in sorted(states.values(), key=lambda s: s.name)
        if not s.firing and s.last_told is not None and s.since is not None and s.since >= start
    ]
    # A maximum (adminsWithoutMfa<=0) fires above it; every other limit, below it.
    above = {r.status for r in readings if r.maximum is not None}
    lines = [_digest_firing_line(state, start, now, state.name in above) for state in firing]
    lines += [f"RESOLVED: {_state_label(s)} on {s.since:%a %d %b %H:%M} UTC." for s in resolved]
    if not lines:
        lines.append("Nothing fired or resolved this week.")
    lines.append(_health_line(newest, fetch_health, now, week))
    unenforced = [s for s in firing if s.name in ENFORCEMENT_STATES]
    own = (CONFIG_HEALTH, FETCH_HEALTH, NO_USERS, *ENFORCEMENT_STATES)
    below = [s for s in firing if s.name not in own]
    fetch_failing = fetch_health is not None and fetch_health.firing
    # Never green for a report that counts nobody, whether or not its alert was decided yet.
    no_users = NO_USERS in {s.name for s in firing} or (
        newest is not None and newest.report.total_users == 0
    )
    stale = stale_days(newest, now)
    if stale is not None:  # whatever it says is old: that comes first
        title = f"Weekly digest: the monitor is not fetching: {_stale_text(stale)}"
    elif no_users and not fetch_failing:
        title = "Weekly digest: the report counts no users"
    elif below:
        count = f"{len(below)} metric{'s' if len(below) != 1 else ''}"
        limit = "maximum" if all(s.name in above for s in below) else "threshold"
        where = "above" if limit == "maximum" else "below"
        if any(s.name in above for s in below) and limit == "threshold":
            where, limit = "outside", "limit"
        its = "their" if len(below) != 1 else "its"
        title = f"Weekly digest: {count} {where} {its} {limit}{'s' if len(below) != 1 else ''}"
    elif newest is None or fetch_failing:
        title = "Weekly digest: the monitor is not fetching the report"
    elif unenforced:
        title = "Weekly digest: " + digest_title(unenforced)
    elif firing:
        title = "Weekly digest: a status in THRESHOLDS is not checked"
    else:
        title = "Weekly digest: every metric meets its threshold"
    attention = bool(firing) or fetch_failing or newest is None or no_users or stale is not None
    footer = f"Week to {now:%Y-%m-%d %H:%M} UTC"
    if newest is not None:
        footer = f"Tenant {newest.key.tenant_id} · " + footer
    return Message(
        title=title,
        severity="attention" if attention else "good",
        lines=lines,
        rows=[
            metric_row(r, trends.get(r.status))
            for r in sorted(readings, key=lambda r: not r.breached)
        ],
        footer=footer,
        chart=chart_series(readings, trends),
        facts=enforcement_facts(newest.enforcement) if newest is not None else [],
    )


def _state_label(state: AlertState) -> str:
    if state.name in ENFORCEMENT_STATES:
        return digest_label(state)
    if state.name == CONFIG_HEALTH:
        return f"**THRESHOLDS** naming {state.detail or 'a status'} the report lacks"
    if state.name == NO_USERS:
        return "**the report**"
    return f"**{label(state.name)}**"


def _digest_firing_line(state: AlertState, start: datetime, now: datetime, above: bool) -> str:
    since = state.since or now
    when = f"since {since:%a %d %b %H:%M} UTC ({duration(now - since)})"
    where = "above its maximum" if above else "below its threshold"
    if state.name == CONFIG_HEALTH:
        return f"NOT CHECKED: {_state_label(state)}, {when}."
    if state.name in ENFORCEMENT_STATES:
        return digest_firing_line(state, when)
    if state.name == NO_USERS:
        return f"NO USERS: {_state_label(state)} counts no users {when}."
    if since >= start:
        return f"FIRED: {_state_label(state)} is {where} {when}."
    return f"STILL FIRING: {_state_label(state)} has been {where} {when}."


def _stale_text(days: int) -> str:
    return f"the newest snapshot is {days} day{'s' if days != 1 else ''} old"


def _health_line(
    newest: Snapshot | None, health: AlertState | None, now: datetime, week: timedelta
) -> str:
    """The monitor's own health: when it last fetched the report, and whether fetching fails."""
    if newest is None:
        fetched = "No report was fetched in the last 30 days: coverage is not being checked."
    else:
        ago = duration(now - newest.fetched_at)
        fetched = f"Last successful fetch: {newest.fetched_at:%a %d %b %H:%M} UTC ({ago} ago)."
        stale = stale_days(newest, now)
        if stale is not None:
            fetched += f" The monitor is not fetching: {_stale_text(stale)}."
    if health is not None and health.firing and health.since is not None:
        # The error itself is in the fetch cards and the logs; a digest only points at them.
        fetched += (
            f" Fetching has failed since {health.since:%a %d %b %H:%M} UTC "
            f"({duration(now - health.since)}): the fetch alert says why."
        )
    elif health is not None and health.since is not None and health.last_told is not None:
        if now - health.since <= week:  # told it failed, then that it works again
            fetched += f" Fetching failed and works again since {health.since:%a %d %b %H:%M} UTC."
    return fetched
