"""The coverage trace's text (pure): what Azure Monitor's queries parse."""

from __future__ import annotations

from fractions import Fraction

from shared.core.coverage import Reading
from shared.messages.trace import coverage_trace


def reading(**changes: object) -> Reading:
    values: dict[str, object] = {
        "status": "mfaRegistered",
        "count": 1,
        "total": 3,
        "ratio": Fraction(1, 3),
        "threshold": Fraction(95, 100),
    }
    values.update(changes)
    return Reading(**values)  # type: ignore[arg-type]


def test_a_breached_minimum_is_firing_with_its_ratio_to_six_places() -> None:
    assert coverage_trace("t", reading(), "beta") == (
        "coverage tenant=t metric=mfaRegistered count=1 total=3 ratio=0.333333 "
        "threshold=0.95 maximum=none state=firing source=beta"
    )


def test_a_report_of_no_users_has_no_ratio_and_is_unchecked() -> None:
    text = coverage_trace("t", reading(count=0, total=0, ratio=None), "beta")
    assert " ratio=none " in text and text.endswith(" state=unchecked source=beta")


def test_a_maximum_that_holds_is_ok_and_a_metric_without_limit_is_unchecked() -> None:
    admins = reading(status="adminsWithoutMfa", count=0, ratio=Fraction(0), threshold=None)
    assert " maximum=0 state=ok " in coverage_trace(
        "t", Reading(**{**admins.__dict__, "maximum": 0}), "v1"
    )
    assert " state=unchecked " in coverage_trace("t", reading(threshold=None), "v1")


def test_a_value_never_carries_the_delimiters_parse_kv_splits_on() -> None:
    text = coverage_trace("t", reading(status="odd name=x"), "")
    assert " metric=odd_name_x " in text and text.endswith(" source=none")
    assert all(pair.count("=") == 1 for pair in text.split(" ")[1:])
