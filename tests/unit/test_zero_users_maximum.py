"""A report of 0 users judges no maximum either (C5, pure): `adminsWithoutMfa<=0` firing is
not "resolved" by a report that counts nobody; the 0-users alert speaks instead."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from shared.core.alerting import NO_USERS, AlertState, Notice, decide_metrics
from shared.core.coverage import readings
from shared.core.report import Report

DAY = timedelta(hours=24)
T0 = datetime(2026, 11, 1, 6, 0, tzinfo=timezone.utc)
ADMINS = "adminsWithoutMfa"


def test_a_report_of_no_users_neither_resolves_nor_closes_a_firing_maximum() -> None:
    firing = AlertState(ADMINS, firing=True, since=T0, told_firing=True, last_told=T0)
    current = readings(Report("r", 0, {ADMINS: 0}), {}, None, {ADMINS: 0})

    decision = decide_metrics(
        {ADMINS: firing},
        current,
        now=T0 + DAY,
        repeat=DAY,
        drop_points=None,
        detail="s",
        no_users=True,
    )

    assert not current[0].judged
    assert decision.states[ADMINS] == firing  # kept as it was
    assert [(e.notice, e.state.name) for e in decision.events] == [(Notice.FIRING, NO_USERS)]


def test_a_report_with_users_still_judges_the_maximum() -> None:
    firing = AlertState(ADMINS, firing=True, since=T0, told_firing=True, last_told=T0)
    current = readings(Report("r", 10, {ADMINS: 0}), {}, None, {ADMINS: 0})

    decision = decide_metrics(
        {ADMINS: firing}, current, now=T0 + DAY, repeat=DAY, drop_points=None, detail="s"
    )

    assert [(e.notice, e.state.name) for e in decision.events] == [(Notice.RESOLVED, ADMINS)]
