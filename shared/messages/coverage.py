"""The message a coverage check posts: what changed, then every metric's row (pure).

One message per check, whatever changed: its title is the first notice (+ how many more),
its lines the notices, its table every metric, the breached ones first. Each metric with a
known trend (shared/core/trends.py) carries its 7- and 30-day change and a sparkline, and the
thresholded ones a chart series.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from shared.core.alerting import CONFIG_HEALTH, NO_USERS, Event, Notice
from shared.core.coverage import ADMINS_WITHOUT_MFA, KNOWN_STATUSES, Reading, label
from shared.core.snapshot import Snapshot
from shared.core.trends import Trend
from shared.messages.enforcement import (
    enforcement_facts,
    enforcement_line,
    enforcement_title,
    is_enforcement,
)
from shared.messages.model import Message
from shared.messages.wording import (
    MAX_LABEL_CHARS,
    chart_series,
    duration,
    metric_row,
    percent,
    shorten,
    threshold_text,
)

MAX_REPORT_ID_CHARS = 100  # Graph's ids are short; a hostile one must not bloat the card
MAX_PROBLEM_CHARS = 400


def admins_to_name(events: Sequence[Event]) -> Reading | None:
    """The `adminsWithoutMfa` reading of a card that names admins (it fires or reminds), if
    any: only such a card asks Graph for names (ALERT_NAME_ADMINS=true)."""
    return next(
        (
            e.reading
            for e in events
            if e.reading is not None
            and e.reading.status == ADMINS_WITHOUT_MFA
            and e.notice in (Notice.FIRING, Notice.REMINDER)
        ),
        None,
    )


def coverage_message(
    snapshot: Snapshot,
    readings: Sequence[Reading],
    events: Sequence[Event],
    admin_names: Sequence[str] = (),
    trends: Mapping[str, Trend] | None = None,
    *,
    admin_names_problem: str | None = None,
) -> Message:
    """The summary for a snapshot whose check produced `events` (at least one).

    `admin_names`: a few admins without MFA, named only with ALERT_NAME_ADMINS=true (never
    stored: the check asks Graph for them just before posting, see `admins_to_name`), or
    `admin_names_problem`, why they could not be listed. Each metric with a known trend
    (`trends`, by status) shows it under its row."""
    now = snapshot.fetched_at
    lines = [_event_line(event, snapshot) for event in events]
    admins = admins_to_name(events)
    if admins is not None and admin_names:
        unnamed = admins.count - len(admin_names)
        lines.append(
            "Admins without MFA: "
            + ", ".join(shorten(name, MAX_LABEL_CHARS) for name in admin_names)
            + (f" and {unnamed:,} more" if unnamed > 0 else "")
            + "."
        )
    elif admins is not None and admin_names_problem:
        lines.append(
            "The admins without MFA could not be listed: "
            + shorten(admin_names_problem, MAX_PROBLEM_CHARS)
        )
    kinds = {event.notice for event in events}
    if kinds & {Notice.FIRING, Notice.REMINDER}:
        severity = "attention"
    elif kinds & {Notice.DROP, Notice.CLOSED}:
        severity = "warning"
    else:
        severity = "good"
    told = {event.reading.status for event in events if event.reading is not None}

    def watched(reading: Reading) -> bool:
        limited = reading.threshold is not None or reading.maximum is not None
        return limited or reading.status in told

    first = events[0]
    more = f" (+{len(events) - 1} more)" if len(events) > 1 else ""
    report_id = (snapshot.report.report_id or "")[:MAX_REPORT_ID_CHARS]
    return Message(
        title=_event_title(first, snapshot) + more,
        severity=severity,
        lines=lines,
        # The reason for the card leads the table: metrics below their threshold, then those
        # with a threshold or a notice, then the rest (a report can carry hundreds).
        rows=[
            metric_row(r, (trends or {}).get(r.status))
            for r in sorted(readings, key=lambda r: (not r.breached, not watched(r)))
        ],
        footer=f"Tenant {snapshot.key.tenant_id} · fetched {now:%Y-%m-%d %H:%M} UTC"
        + (f" · report {report_id}" if report_id else "")
        + f" · source {snapshot.source.split('/')[0]} {snapshot.source.split('/')[-1]}",
        chart=chart_series(readings, trends or {}),
        facts=enforcement_facts(snapshot.enforcement),
    )


def _event_title(event: Event, snapshot: Snapshot) -> str:
    if is_enforcement(event.state):
        return enforcement_title(event, snapshot.enforcement)
    if event.state.name == NO_USERS:
        if event.notice is Notice.RESOLVED:
            return "Resolved: the report counts users again"
        return "The report counts no users"
    if event.state.name == CONFIG_HEALTH:
        if event.notice is Notice.RESOLVED:
            return "Resolved: every status in THRESHOLDS is checked again"
        return f"Not checked: the report carries no {event.state.detail}, which THRESHOLDS names"
    if event.notice is Notice.CLOSED:
        return f"No longer checked: {label(event.state.name)}, which was below its threshold"
    if event.reading is None:
        return event.state.name
    reading = event.reading
    name = label(reading.status)
    if reading.maximum is not None:
        if event.notice is Notice.RESOLVED:
            return f"Resolved: {name} back to {reading.count:,} (at most {reading.maximum:,})"
        return f"{name}: {reading.count:,}, more than {reading.maximum:,}"
    value, threshold = percent(reading.ratio, reading.threshold), threshold_text(reading.threshold)
    if event.notice is Notice.RESOLVED:
        return f"Resolved: {name} back to {value} (threshold {threshold})"
    if event.notice is Notice.DROP:
        return f"Sharp drop: {name} fell {_points(reading)} points to {value}"
    return f"{name} at {value}, below {threshold}"


def _event_line(event: Event, snapshot: Snapshot) -> str:
    now = snapshot.fetched_at
    firing_for = duration(now - event.started) if event.started else "an unknown time"
    if is_enforcement(event.state):
        return enforcement_line(event, firing_for, snapshot.enforcement)
    if event.state.name == CONFIG_HEALTH:
        return _config_line(event, firing_for)
    if event.state.name == NO_USERS:
        return _no_users_line(event, firing_for)
    if event.notice is Notice.CLOSED:
        return (
            f"CLOSED: **{label(event.state.name)}** was below its threshold "
            f"for {firing_for} and is no longer checked: {event.reason}. Its alert is cleared; "
            "if it is checked again, it starts afresh."
        )
    reading = event.reading
    assert reading is not None  # coverage events always carry their reading
    name = f"**{label(reading.status)}**"
    if reading.maximum is not None:
        return _maximum_line(event, name, firing_for)
    value = percent(reading.ratio, reading.threshold)
    value += f" ({reading.count:,} of {reading.total:,} users)"
    if reading.exceeds_total:
        value += ", more than the total, which counts enabled users only"
    threshold = threshold_text(reading.threshold)
    if event.notice is Notice.FIRING:
        return f"FIRING: {name} is {value}, below the {threshold} threshold."
    if event.notice is Notice.REMINDER:
        return f"STILL FIRING: {name} is {value}, below the {threshold} threshold for {firing_for}."
    if event.notice is Notice.RESOLVED:
        return (
            f"RESOLVED: {name} is back to {value}, at or above {threshold}, "
            f"after firing for {firing_for}."
        )
    previous = percent(reading.previous_ratio, reading.threshold)
    return (
        f"DROP: {name} fell {_points(reading)} points since the previous snapshot, "
        f"from {previous} to {value}."
    )


def _maximum_line(event: Event, name: str, firing_for: str) -> str:
    reading = event.reading
    assert reading is not None
    value, maximum = f"{reading.count:,} users", f"{reading.maximum:,}"
    if event.notice is Notice.FIRING:
        return f"FIRING: {name} is {value}, more than the maximum of {maximum}."
    if event.notice is Notice.REMINDER:
        return f"STILL FIRING: {name} is {value}, more than {maximum} for {firing_for}."
    return f"RESOLVED: {name} is {value}, at most {maximum}, after firing for {firing_for}."


def _config_line(event: Event, firing_for: str) -> str:
    if event.notice is Notice.RESOLVED:
        return (
            "RESOLVED: every status THRESHOLDS names is in the report again and checked, after "
            f"{firing_for}."
        )
    still = "STILL " if event.notice is Notice.REMINDER else ""
    return (
        f"{still}NOT CHECKED: THRESHOLDS names {event.state.detail}, but the report does not "
        f"carry {'it' if ',' not in event.state.detail else 'them'}, so "
        f"{'it is' if ',' not in event.state.detail else 'they are'} not being checked"
        + (f" (for {firing_for})" if still else "")
        + f". The report's statuses are normally {', '.join(KNOWN_STATUSES)}: check THRESHOLDS, "
        "or whether Graph stopped sending the status."
    )


def _no_users_line(event: Event, firing_for: str) -> str:
    if event.notice is Notice.RESOLVED:
        return f"RESOLVED: the report counts users again, after {firing_for}."
    if event.notice is Notice.REMINDER:
        return (
            f"STILL NO USERS: the report has counted 0 users for {firing_for}: nothing is checked."
        )
    # Microsoft says of the retired sibling reports that they "stop returning data".
    return (
        "NO USERS: the report counts 0 users, so no coverage can be checked. A report that "
        "stops returning data looks like this: check REPORT_SOURCE, the scope (INCLUDE_GUESTS, "
        "EXCLUDE_USERS) and whether Graph still serves the report."
    )


def _points(reading: Reading) -> str:
    """How far a reading fell, in percentage points, to one decimal."""
    return f"{float(round(-(reading.change_points or 0), 1)):.1f}"
