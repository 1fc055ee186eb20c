"""The digest is never green on old data (pure): a newest snapshot older than STALE_AFTER
(two days) is "not fetching", even when no fetch failure was recorded (a stopped timer records
none), in the one-tenant digest and in the TENANTS roll-up."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from fractions import Fraction

from shared.core.coverage import Reading
from shared.core.report import Report
from shared.core.snapshot import Snapshot, snapshot_key
from shared.messages.digest import digest_message
from shared.messages.rollup import TenantSummary, rollup_message

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
DAY = timedelta(days=1)
OK = Reading("mfaRegistered", 990, 1000, Fraction(99, 100), Fraction(95, 100))


def digest_of(age: timedelta):  # type: ignore[no-untyped-def]
    newest = Snapshot(snapshot_key("t", NOW - age), NOW - age, Report("r", 1000, {}))
    return digest_message(
        now=NOW, newest=newest, readings=[OK], trends={}, states={}, fetch_health=None
    )


def test_a_snapshot_25_days_old_without_a_fetch_failure_is_not_fetching() -> None:
    message = digest_of(25 * DAY)

    assert message.title == (
        "Weekly digest: the monitor is not fetching: the newest snapshot is 25 days old"
    )
    assert message.severity == "attention"
    assert "The monitor is not fetching: the newest snapshot is 25 days old." in message.lines[-1]


def test_a_snapshot_within_two_days_meets_its_threshold_as_before() -> None:
    message = digest_of(2 * DAY)

    assert message.title == "Weekly digest: every metric meets its threshold"
    assert message.severity == "good"


def test_a_tenant_whose_newest_snapshot_is_old_needs_attention_in_the_rollup() -> None:
    message = rollup_message(
        now=NOW,
        tenants=[
            TenantSummary("Contoso", OK),
            TenantSummary("Fabrikam", OK, stale_days=25),
        ],
    )

    assert message.title == "Weekly digest: 1 of 2 tenants need attention"
    assert message.severity == "attention"
    assert message.lines[0].startswith("**Fabrikam**")
    assert message.lines[0].endswith("not fetching: the newest snapshot is 25 days old")
