"""The alert lifecycle (pure: no I/O; `now` is passed in).

Modelled on Alertmanager: a condition that starts is announced once (`firing`); while it lasts
it is announced again only every `repeat` (`reminder`); when it ends it is announced once
(`resolved`). A state records what people were last *told*, not just what is true, so a notice
whose post failed is sent again on the next run instead of being lost.

The same machine watches each thresholded metric, the thresholds' own configuration (a status
THRESHOLDS names that the report lacks: CONFIG_HEALTH), a report that counts no users
(NO_USERS) and the monitor's own fetches. Sharp
drops (`drop`) are extra notices computed per snapshot; they keep no state of their own.

Nothing disappears while firing: a metric whose alert people were told about and that is no
longer checked (gone from the report, or from THRESHOLDS) gets one `closed` notice saying why,
and its state is cleared, so a metric added back later starts fresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum
from fractions import Fraction

from shared.core.coverage import Reading
from shared.core.enforcement_status import EnforcementStatus

FETCH_HEALTH = "fetch"  # the name of the monitor's own health state
# The state of THRESHOLDS' own health: statuses it names that the report does not carry. Report
# statuses start with a letter, so this name cannot collide with one.
CONFIG_HEALTH = "_thresholds"
# A report that counts no users (a source that "stops returning data", as Microsoft says of the
# retired sibling reports): nothing can be checked, which must be said, not only logged.
NO_USERS = "_users"
# MFA enforcement (CHECK_ENFORCEMENT=true): not enforced for all users, not for admins, and
# not known (Graph refused the policies, most often for want of Policy.Read.All).
ENFORCED_ALL_USERS = "_enforcedAllUsers"
ENFORCED_ADMINS = "_enforcedAdmins"
ENFORCEMENT_UNKNOWN = "_enforcement"
ENFORCEMENT_STATES = (ENFORCED_ALL_USERS, ENFORCED_ADMINS, ENFORCEMENT_UNKNOWN)
# Scheduled runs start a few seconds early or late: a reminder due "every 24 hours" must not
# slip to 48 hours because today's run began two seconds before yesterday's.
SCHEDULE_JITTER = timedelta(minutes=30)


class Notice(str, Enum):
    FIRING = "firing"
    REMINDER = "reminder"
    RESOLVED = "resolved"
    DROP = "drop"
    CLOSED = "closed"  # a firing metric that is no longer checked; its state is cleared


@dataclass(frozen=True)
class AlertState:
    name: str  # a report status, or FETCH_HEALTH
    firing: bool = False
    since: datetime | None = None  # when it last changed between ok and firing
    told_firing: bool = False  # what the last delivered notice said
    last_told: datetime | None = None
    detail: str = ""  # the snapshot that caused it, or the fetch error


@dataclass(frozen=True)
class Event:
    notice: Notice
    state: AlertState  # the state after this run
    reading: Reading | None = None  # for metric events
    started: datetime | None = None  # when the condition began (for resolved: the one that ended)
    reason: str = ""  # for closed notices: why the metric is no longer checked


@dataclass(frozen=True)
class Decision:
    states: dict[str, AlertState]  # new states as they are if no notice is delivered
    events: list[Event]
    cleared: list[str] = field(default_factory=list)  # states to delete once delivered

    def delivered(self, now: datetime) -> dict[str, AlertState]:
        """The states to store once this decision's notices were posted successfully."""
        told = {e.state.name for e in self.events if e.notice not in (Notice.DROP, Notice.CLOSED)}
        return {
            name: replace(state, told_firing=state.firing, last_told=now) if name in told else state
            for name, state in self.states.items()
        }


def split(outcome: Event | AlertState) -> tuple[AlertState, Event | None]:
    """A `step`'s outcome as the state to keep and the event to announce, if any."""
    if isinstance(outcome, Event):
        return outcome.state, outcome
    return outcome, None


def step(
    prior: AlertState | None, *, name: str, bad: bool, now: datetime, repeat: timedelta, detail: str
) -> Event | AlertState:
    """Advance one alert by one observation: the Event to announce, or just the new state."""
    before = prior or AlertState(name=name, since=now)
    state = before
    if bad != state.firing:
        # Ending keeps the cause: the resolved notice quotes the last error (or snapshot) seen.
        state = replace(state, firing=bad, since=now, detail=detail if bad else state.detail)
    elif bad:
        state = replace(state, detail=detail)
    if state.firing and not state.told_firing:
        return Event(Notice.FIRING, state, started=state.since)
    jitter = min(SCHEDULE_JITTER, repeat / 2)
    due = state.last_told is not None and now - state.last_told >= repeat - jitter
    if state.firing and due:
        return Event(Notice.REMINDER, state, started=state.since)
    if not state.firing and state.told_firing:
        # `before.since` is when the firing began, unless a failed post already stored the end.
        started = before.since if before.firing else None
        return Event(Notice.RESOLVED, state, started=started)
    return state


def decide_metrics(
    prior: dict[str, AlertState],
    readings: list[Reading],
    *,
    now: datetime,
    repeat: timedelta,
    drop_points: Fraction | None,
    detail: str,
    missing: Sequence[str] = (),
    no_users: bool = False,
    enforcement: EnforcementStatus | None = None,
) -> Decision:
    """Judge one snapshot's readings against the stored states.

    `missing` lists the statuses THRESHOLDS names that the report lacks: a configuration
    problem, announced like any alert. `no_users`: the report counts nobody (NO_USERS), also
    an alert; its notice leads the card. `enforcement` (None: not read): "MFA is not
    enforced" for all users and for admins are alerts like a metric's; while enforcement is
    unknown they stay as they were, and ENFORCEMENT_UNKNOWN says so.
    """
    states: dict[str, AlertState] = {}
    events: list[Event] = []
    for reading in readings:
        limited = reading.threshold is not None or reading.maximum is not None
        if limited and not reading.judged:
            # A report of 0 users judges nothing, a maximum's neither: the alert stays as it
            # was, neither fired, resolved nor closed.
            if reading.status in prior:
                states[reading.status] = prior[reading.status]
        elif reading.judged:
            state, event = split(
                step(
                    prior.get(reading.status),
                    name=reading.status,
                    bad=reading.breached,
                    now=now,
                    repeat=repeat,
                    detail=detail,
                )
            )
            if event is not None:
                events.append(replace(event, reading=reading))
            states[reading.status] = state
        change = reading.change_points
        falling = drop_points is not None and change is not None and -change >= drop_points
        if falling and not reading.fewer_is_better:
            current = states.get(reading.status) or AlertState(reading.status)
            events.append(Event(Notice.DROP, current, reading))

    for name, bad, about in (
        (CONFIG_HEALTH, bool(missing), ", ".join(missing)),
        (NO_USERS, no_users, detail),
    ):
        state, event = split(
            step(prior.get(name), name=name, bad=bad, now=now, repeat=repeat, detail=about)
        )
        if event is not None:
            # Nothing is checked without users: that notice comes first.
            events.insert(0 if name == NO_USERS else len(events), event)
        if state != AlertState(name, since=now):  # keep no state for what was never wrong
            states[name] = state

    if enforcement is not None:
        _decide_enforcement(prior, enforcement, states, events, now=now, repeat=repeat)

    cleared: list[str] = []
    reported = {reading.status: reading for reading in readings}
    for name, state in prior.items():
        if name in states or name in (CONFIG_HEALTH, NO_USERS):
            continue
        cleared.append(name)
        if state.told_firing:
            reason = (
                "CHECK_ENFORCEMENT is off"
                if name in ENFORCEMENT_STATES
                else _why_unchecked(reported.get(name))
            )
            events.append(Event(Notice.CLOSED, state, reported.get(name), state.since, reason))
    return Decision(states, events, cleared)


def _decide_enforcement(
    prior: dict[str, AlertState],
    enforcement: EnforcementStatus,
    states: dict[str, AlertState],
    events: list[Event],
    *,
    now: datetime,
    repeat: timedelta,
) -> None:
    for name, finding in (
        (ENFORCED_ALL_USERS, enforcement.all_users),
        (ENFORCED_ADMINS, enforcement.admins),
    ):
        if finding is None:  # unknown this time: neither fired nor resolved
            if name in prior:
                states[name] = prior[name]
            continue
        states[name], event = split(
            step(
                prior.get(name),
                name=name,
                bad=not finding.enforced,
                now=now,
                repeat=repeat,
                detail=finding.reason,
            )
        )
        events += [event] if event is not None else []
    state, event = split(
        step(
            prior.get(ENFORCEMENT_UNKNOWN),
            name=ENFORCEMENT_UNKNOWN,
            bad=bool(enforcement.unknown),
            now=now,
            repeat=repeat,
            detail=enforcement.unknown,
        )
    )
    events += [event] if event is not None else []
    if state != AlertState(ENFORCEMENT_UNKNOWN, since=now):
        states[ENFORCEMENT_UNKNOWN] = state


def _why_unchecked(reading: Reading | None) -> str:
    # A status still reported and still thresholded keeps its state, so it never gets here.
    if reading is None:
        return "the report no longer carries this status"
    return "THRESHOLDS no longer names this status"


def decide_fetch_health(
    prior: AlertState | None, *, error: str | None, now: datetime, repeat: timedelta
) -> Decision:
    """Judge one fetch: `error` is None when it worked."""
    state, event = split(
        step(
            prior,
            name=FETCH_HEALTH,
            bad=error is not None,
            now=now,
            repeat=repeat,
            detail=error or "",
        )
    )
    return Decision({FETCH_HEALTH: state}, [event] if event is not None else [])
