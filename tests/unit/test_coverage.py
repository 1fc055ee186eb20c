"""Thresholds and coverage ratios (pure)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from shared.core.coverage import (
    label,
    missing_statuses,
    parse_limits,
    parse_thresholds,
    ratio_of,
    readings,
)
from shared.core.report import Report


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mfaRegistered=0.95", {"mfaRegistered": 0.95}),
        ("mfaRegistered=95%", {"mfaRegistered": 0.95}),
        (" mfaRegistered = 95% , capable=0.9 ,", {"mfaRegistered": 0.95, "capable": 0.9}),
        ("registered=100%,enabled=0", {"registered": 1.0, "enabled": 0.0}),
        ("enabled=12.5%", {"enabled": 0.125}),
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
        ("mfaRegistered=nan", "'nan' is not a ratio (0.95) or a percentage (95%)"),
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

    current = readings(report, {"mfaRegistered": Fraction(95, 100), "capable": Fraction(1, 2)})

    assert [(r.status, r.ratio, r.threshold) for r in current] == [
        ("mfaRegistered", Fraction(9, 10), Fraction(95, 100)),
        ("capable", Fraction(1, 2), Fraction(1, 2)),
        ("registered", Fraction(3, 4), None),
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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mfaRegistered=0%", {"mfaRegistered": 0.0}),
        ("mfaRegistered=1", {"mfaRegistered": 1.0}),
        ("mfaRegistered=95 %", {"mfaRegistered": 0.95}),
        ("\tcapable =\t0.9\n", {"capable": 0.9}),
    ],
)
def test_threshold_boundaries_and_whitespace_are_accepted(
    text: str, expected: dict[str, float]
) -> None:
    assert parse_thresholds(text) == pytest.approx(expected)


def test_thresholds_keep_the_order_they_are_configured_in() -> None:
    assert list(parse_thresholds("registered=1%,mfaRegistered=2%,capable=3%")) == [
        "registered",
        "mfaRegistered",
        "capable",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("capable=90%,mfaRegistered=150%", "mfaRegistered: '150%' is outside 0..1 / 0%..100%"),
        ("capable=90%,mfaRegistered=1.0001", "mfaRegistered: '1.0001' is outside 0..1 / 0%..100%"),
        ("capable=90%,mfaRegistered=inf", "mfaRegistered: 'inf' is not a ratio (0.95) or a"),
        ("capable=90%,mfaRegistered=", "mfaRegistered: '' is not a ratio (0.95) or a percentage"),
        ("capable=90%,mfaRegistered=%", "mfaRegistered: '%' is not a ratio (0.95) or a percentage"),
        ("capable=90%,=95%", "'=95%' is not status=minimum"),
        ("capable=90%,mfa-registered=95%", "'mfa-registered=95%' is not status=minimum"),
        ("capable=0.9,mfaRegistered=0.9,capable=0.8", "capable is given twice"),
        ("", "no status=minimum pairs"),
    ],
)
def test_the_error_names_the_bad_entry_not_its_neighbours(text: str, message: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_thresholds(text)

    assert str(error.value).startswith(message)


def test_a_percentage_above_one_hundred_gets_no_hint_to_add_a_percent_sign() -> None:
    with pytest.raises(ValueError) as error:
        parse_thresholds("mfaRegistered=250")

    assert "write 95% or 0.95" not in str(error.value)


def test_a_zero_user_tenant_has_undefined_ratios_for_every_status() -> None:
    report = Report(None, 0, {"mfaRegistered": 0, "capable": 0, "passkeyCapable": 0})
    previous = Report(None, 0, {"mfaRegistered": 0})

    current = readings(report, {"mfaRegistered": 0.95, "capable": 0.9}, previous)

    assert [(r.status, r.ratio, r.threshold) for r in current] == [
        ("mfaRegistered", None, 0.95),
        ("capable", None, 0.9),
        ("passkeyCapable", None, None),
    ]
    assert [r.breached for r in current] == [False, False, False]
    assert ratio_of(report, "mfaRegistered") is None


def test_a_previous_snapshot_of_zero_users_gives_no_change() -> None:
    previous = Report(None, 0, {"mfaRegistered": 0})

    [current] = readings(Report(None, 10, {"mfaRegistered": 5}), {}, previous)

    assert (current.ratio, current.previous_ratio, current.change_points) == (0.5, None, None)


def test_the_ratio_of_a_status_the_report_lacks_is_none() -> None:
    report = Report(None, 10, {"registered": 5})

    assert (ratio_of(report, "registered"), ratio_of(report, "capable")) == (0.5, None)


def test_a_thresholded_status_the_report_lacks_has_no_reading() -> None:
    report = Report(None, 10, {"registered": 5})

    current = readings(report, {"mfaRegistered": 0.9, "registered": 0.4})

    assert [(r.status, r.breached) for r in current] == [("registered", False)]
    assert missing_statuses(report, {"mfaRegistered": 0.9, "registered": 0.4}) == ["mfaRegistered"]


def test_no_statuses_are_missing_when_the_report_has_them_all() -> None:
    report = Report(None, 10, {"registered": 5, "capable": 2})

    assert missing_statuses(report, {"capable": 0.1, "registered": 0.1}) == []


def test_a_breach_is_strictly_below_the_threshold() -> None:
    report = Report(None, 1000, {"mfaRegistered": 949, "capable": 950})

    current = readings(report, {"mfaRegistered": 0.95, "capable": 0.95})

    assert [(r.status, r.breached) for r in current] == [
        ("mfaRegistered", True),
        ("capable", False),
    ]


def test_a_rise_is_positive_points() -> None:
    previous = Report(None, 200, {"capable": 100})

    [current] = readings(Report(None, 200, {"capable": 150}), {}, previous)

    assert current.change_points == 25.0


def test_documented_statuses_have_readable_labels_and_unknown_ones_are_spelt_out() -> None:
    assert label("mfaRegistered") == "Registered for MFA"
    assert label("capable") == "Capable of SSPR"
    assert label("passkeyCapable") == "Passkey capable"
    assert label("softwareOneTimePasscode") == "Software one time passcode"
    assert label("isMFACapable") == "Is MFA capable"
    assert label("fido2_registered") == "FIDO2 registered"
    assert label("status000Capable") == "Status000 capable"


def test_a_maximum_is_a_number_of_users_and_fires_above_it() -> None:
    limits = parse_limits("mfaRegistered=95%, adminsWithoutMfa <= 0")
    report = Report("r", 100, {"mfaRegistered": 96, "adminsWithoutMfa": 1})

    current = readings(report, limits.minimums, None, limits.maximums)

    assert (limits.minimums, limits.maximums) == (
        {"mfaRegistered": Fraction(95, 100)},
        {"adminsWithoutMfa": 0},
    )
    assert [(r.status, r.breached) for r in current] == [
        ("mfaRegistered", False),
        ("adminsWithoutMfa", True),
    ]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "adminsWithoutMfa=5%",
            "adminsWithoutMfa takes a maximum number of users: write adminsWithoutMfa<=0",
        ),
        ("adminsWithoutMfa<=1.5", "'1.5' is not a whole number of users"),
        ("adminsWithoutMfa<=-1", "'-1' is not a whole number of users"),
        ("adminsWithoutMfa<=0,adminswithoutmfa<=1", "adminsWithoutMfa is given twice"),
        ("adminsWithoutMFA<0", "is not status=minimum or status<=maximum"),
    ],
)
def test_bad_maxima_say_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_limits(text)

    assert says in str(error.value)
