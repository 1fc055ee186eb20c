"""Thresholds and coverage ratios (pure)."""

from __future__ import annotations

import pytest

from shared.coverage import missing_statuses, parse_thresholds, readings
from shared.report import Report


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mfaRegistered=0.95", {"mfaRegistered": 0.95}),
        ("mfaRegistered=95%", {"mfaRegistered": 0.95}),
        (" mfaRegistered = 95% , capable=0.9 ,", {"mfaRegistered": 0.95, "capable": 0.9}),
        ("registered=100%,enabled=0", {"registered": 1.0, "enabled": 0.0}),
        ("passkeyCapable=12.5%", {"passkeyCapable": 0.125}),
    ],
)
def test_thresholds_are_ratios_or_percentages(text: str, expected: dict[str, float]) -> None:
    assert parse_thresholds(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("mfaRegistered", "is not status=minimum"),
        ("mfa Registered=95%", "is not status=minimum"),
        ("mfaRegistered=ninety", "'ninety' is not a ratio (0.95) or a percentage (95%)"),
        ("mfaRegistered=95", "outside 0..1 / 0%..100% (write 95% or 0.95)"),
        ("mfaRegistered=101%", "outside 0..1"),
        ("mfaRegistered=-0.1", "outside 0..1"),
        ("mfaRegistered=nan", "outside 0..1"),
        ("capable=90%,capable=80%", "capable is given twice"),
        (" , ", "no status=minimum pairs"),
    ],
)
def test_bad_thresholds_say_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_thresholds(text)

    assert says in str(error.value)


def test_each_ratio_is_its_count_over_the_total_thresholded_statuses_first() -> None:
    report = Report("r", 200, {"registered": 150, "mfaRegistered": 180, "capable": 100})

    current = readings(report, {"mfaRegistered": 0.95, "capable": 0.5})

    assert [(r.status, r.ratio, r.threshold) for r in current] == [
        ("mfaRegistered", 0.9, 0.95),
        ("capable", 0.5, 0.5),
        ("registered", 0.75, None),
    ]
    assert [r.breached for r in current] == [True, False, False]  # at the threshold is fine


def test_a_tenant_of_zero_users_has_no_ratios_and_no_breaches() -> None:
    current = readings(Report(None, 0, {"mfaRegistered": 0}), {"mfaRegistered": 0.95})

    assert current[0].ratio is None
    assert not current[0].breached
    assert current[0].change_points is None


def test_change_is_in_percentage_points_since_the_previous_snapshot() -> None:
    previous = Report("a", 100, {"mfaRegistered": 85})
    current = readings(Report("b", 100, {"mfaRegistered": 80}), {}, previous)

    assert current[0].change_points == -5.0  # exactly, not -4.999999999999993


def test_a_status_new_since_the_previous_snapshot_has_no_change() -> None:
    previous = Report("a", 100, {"registered": 85})
    current = readings(Report("b", 100, {"mfaRegistered": 80}), {}, previous)

    assert current[0].change_points is None


def test_thresholded_statuses_the_report_lacks_are_listed() -> None:
    report = Report(None, 10, {"registered": 5})

    assert missing_statuses(report, {"registered": 0.5, "mfaRegisterd": 0.9}) == ["mfaRegisterd"]
