"""The weekly digest's message: the week's story from the alert states (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from fractions import Fraction

from shared.core.alerting import AlertState
from shared.core.coverage import Reading
from shared.core.report import Report
from shared.core.snapshot import Snapshot, snapshot_key
from shared.messages.digest import digest_message

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)


def digest_lines(**states: AlertState | None) -> list[str]:
    fetch = states.pop("fetch", None)
    snapshot = Snapshot(
        snapshot_key("t", NOW - 2 * DAY / 24), NOW - 2 * DAY / 24, Report("r", 1000, {})
    )
    message = digest_message(
        now=NOW,
        newest=snapshot,
        readings=[],
        trends={},
        states={name: state for name, state in states.items() if state is not None},
        fetch_health=fetch,
    )
    return message.lines


def test_a_metric_firing_since_before_the_week_is_still_firing() -> None:
    lines = digest_lines(
        capable=AlertState("capable", firing=True, since=NOW - 9 * DAY, told_firing=True)
    )

    assert lines[0] == (
        "STILL FIRING: **Capable of SSPR** has been below its threshold since Sat 14 Nov "
        "08:00 UTC (9 days)."
    )


def test_a_resolution_before_the_week_and_a_metric_never_told_are_not_news() -> None:
    lines = digest_lines(
        capable=AlertState("capable", since=NOW - 8 * DAY, last_told=NOW - 8 * DAY),
        enabled=AlertState("enabled", since=NOW - 2 * DAY),  # never fired
    )

    assert lines[0] == "Nothing fired or resolved this week."


def test_fetching_that_failed_and_recovered_during_the_week_is_mentioned() -> None:
    recovered = AlertState("fetch", since=NOW - 3 * DAY, last_told=NOW - 3 * DAY, detail="x")

    lines = digest_lines(fetch=recovered)

    assert lines[-1] == (
        "Last successful fetch: Mon 23 Nov 06:00 UTC (2 hours ago). Fetching failed and works "
        "again since Fri 20 Nov 08:00 UTC."
    )


def test_a_maximum_that_fires_is_said_to_be_above_it() -> None:
    admins = Reading("adminsWithoutMfa", 3, 1000, Fraction(3, 1000), None, maximum=0)
    state = AlertState("adminsWithoutMfa", firing=True, since=NOW - DAY, told_firing=True)

    message = digest_message(
        now=NOW,
        newest=None,
        readings=[admins],
        trends={},
        states={"adminsWithoutMfa": state},
        fetch_health=None,
    )

    assert message.title == "Weekly digest: 1 metric above its maximum"
    assert message.lines[0].startswith("FIRED: **Admins without MFA** is above its maximum since")
