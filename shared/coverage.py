"""Coverage ratios and threshold checks (pure: no I/O, no clock).

A ratio is registrationCount / totalUserCount for one status (`registered`, `enabled`,
`capable`, `mfaRegistered`, or any status Graph adds later). A tenant that reports zero users
has no ratios: they are `None`, never a division by zero, and never a breach.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from shared.report import Report

# What each documented status counts, for people reading the card.
STATUS_LABELS = {
    "mfaRegistered": "Registered for MFA",
    "registered": "Registered for SSPR",
    "enabled": "Enabled for SSPR",
    "capable": "Capable of SSPR",  # registered *and* enabled
}

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,99}")
# camelCase words (digits stay with the word before them: fido2), and runs of capitals (isMFA).
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])\d*|[A-Z]?[a-z]+\d*|[A-Z]+\d*|\d+")
_ACRONYMS = {"mfa": "MFA", "sspr": "SSPR", "sms": "SMS", "otp": "OTP", "fido2": "FIDO2"}


@dataclass(frozen=True)
class Reading:
    """One status of one snapshot, judged against its threshold (if it has one)."""

    status: str
    count: int
    total: int
    ratio: float | None  # None when the tenant reports zero users
    threshold: float | None  # None when no threshold is configured for this status
    previous_ratio: float | None = None  # same status in the previous snapshot, if any

    @property
    def breached(self) -> bool:
        return self.ratio is not None and self.threshold is not None and self.ratio < self.threshold

    @property
    def change_points(self) -> float | None:
        """Change since the previous snapshot, in percentage points."""
        if self.ratio is None or self.previous_ratio is None:
            return None
        # Rounded so that 85% -> 80% is 5 points, not 4.999999999999993 (a missed drop alert).
        return round((self.ratio - self.previous_ratio) * 100, 9)


def parse_thresholds(text: str) -> dict[str, float]:
    """Parse `mfaRegistered=0.95,registered=90%` into ratios; ValueError names what is wrong."""
    thresholds: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, raw = (s.strip() for s in part.partition("="))
        if not sep or not _NAME.fullmatch(name):
            raise ValueError(f"{part!r} is not status=minimum (e.g. mfaRegistered=95%)")
        if name in thresholds:
            raise ValueError(f"{name} is given twice")
        thresholds[name] = _parse_minimum(name, raw)
    if not thresholds:
        raise ValueError("no status=minimum pairs (e.g. mfaRegistered=95%,capable=90%)")
    return thresholds


def _parse_minimum(name: str, raw: str) -> float:
    percent = raw.endswith("%")
    try:
        number = float(raw[:-1] if percent else raw)
    except ValueError:
        raise ValueError(f"{name}: {raw!r} is not a ratio (0.95) or a percentage (95%)") from None
    ratio = number / 100 if percent else number
    if not 0 <= ratio <= 1 or number != number:  # number != number rejects NaN
        hint = " (write 95% or 0.95)" if not percent and 1 < number <= 100 else ""
        raise ValueError(f"{name}: {raw!r} is outside 0..1 / 0%..100%{hint}")
    return ratio


def readings(
    report: Report, thresholds: Mapping[str, float], previous: Report | None = None
) -> list[Reading]:
    """Every status of `report`, thresholded ones first in configured order, then the rest."""
    ordered = [s for s in thresholds if s in report.counts]
    ordered += [s for s in report.counts if s not in thresholds]
    return [
        Reading(
            status=status,
            count=report.counts[status],
            total=report.total_users,
            ratio=ratio_of(report, status),
            threshold=thresholds.get(status),
            previous_ratio=ratio_of(previous, status) if previous else None,
        )
        for status in ordered
    ]


def missing_statuses(report: Report, thresholds: Mapping[str, float]) -> list[str]:
    """Thresholded statuses the report does not carry: a typo, or a status Graph dropped."""
    return [status for status in thresholds if status not in report.counts]


def ratio_of(report: Report, status: str) -> float | None:
    count = report.counts.get(status)
    if count is None or report.total_users == 0:
        return None
    return count / report.total_users


def label(status: str) -> str:
    """A name people read: the documented statuses' own, else the status's words spelt out."""
    known = STATUS_LABELS.get(status)
    if known is not None:
        return known
    words = _WORD.findall(status)
    if not words:
        return status
    spelt = [_ACRONYMS.get(word.lower(), word.lower()) for word in words]
    first = spelt[0]
    return " ".join([first[:1].upper() + first[1:], *spelt[1:]])
