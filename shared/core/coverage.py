"""Coverage ratios and threshold checks (pure: no I/O, no clock).

A ratio is registrationCount / totalUserCount for one status (`registered`, `enabled`,
`capable`, `mfaRegistered`, or any status Graph adds later). A tenant that reports zero users
has no ratios: they are `None`, never a division by zero, and never a breach.

Ratios and thresholds are exact fractions, never floats: `56.7%` is 567/1000, so a metric
exactly at its threshold is at it (as a float, 0.567 compares wrongly in 139 of 1000 cases).
A count may exceed the total: Microsoft's own example shows `registered` 23423 of 23123,
because the total counts enabled users only. Such a ratio is above 1 and reported as it is.

A status `metric.population` (`mfaRegistered.admins`, v1.0 source only) is read over its
population's own total (`Report.totals`). A population of 0 users (a tenant with no guests)
has no ratios either: like a 0-user report, it judges nothing, and that is no alert by itself.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from shared.core.report import POPULATIONS, Report, metric_of, population_of

# What each documented status counts, for people reading the card: the beta report's four,
# then what the v1.0 userRegistrationDetails source adds (shared.sources.v1.tally).
STATUS_LABELS = {
    "mfaRegistered": "Registered for MFA",
    "registered": "Registered for SSPR",
    "enabled": "Enabled for SSPR",
    "capable": "Capable of SSPR",  # registered *and* enabled
    "mfaCapable": "Capable of MFA",
    "passwordlessCapable": "Capable of passwordless",
    "phishingResistant": "Phishing-resistant method",
    "adminsWithoutMfa": "Admins without MFA",
}

# The statuses a threshold may name: the documented ones. A name is matched without regard to
# case; anything else is a typo that would silently turn monitoring off, so it is refused.
KNOWN_STATUSES = tuple(STATUS_LABELS)
# Metrics where fewer is better: they take a maximum number of users (`adminsWithoutMfa<=0`).
ADMINS_WITHOUT_MFA = "adminsWithoutMfa"
MAXIMUM_ONLY = frozenset({ADMINS_WITHOUT_MFA})

_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,99}(\.[A-Za-z]{1,20})?")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]*)?|\.[0-9]+")
# camelCase words (digits stay with the word before them: fido2), and runs of capitals (isMFA).
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])\d*|[A-Z]?[a-z]+\d*|[A-Z]+\d*|\d+")
_ACRONYMS = {"mfa": "MFA", "sspr": "SSPR", "sms": "SMS", "otp": "OTP", "fido2": "FIDO2"}


@dataclass(frozen=True)
class Reading:
    """One status of one snapshot, judged against its threshold (if it has one)."""

    status: str
    count: int
    total: int
    ratio: Fraction | None  # None when the tenant reports zero users
    threshold: Fraction | None  # None when no minimum is configured for this status
    previous_ratio: Fraction | None = None  # same status in the previous snapshot, if any
    maximum: int | None = None  # at most this many users (`adminsWithoutMfa<=0`)

    @property
    def judged(self) -> bool:
        """Whether this reading is compared with a limit. A report (or population) of 0 users
        judges nothing, a maximum included: "0 admins without MFA" of nobody is no all-clear
        (the 0-users alert speaks instead, and the maximum's state is kept)."""
        if self.total <= 0:
            return False
        return self.maximum is not None or (self.threshold is not None and self.ratio is not None)

    @property
    def fewer_is_better(self) -> bool:
        """A metric people want low (admins without MFA): a fall is no cause for alarm."""
        return self.maximum is not None or metric_of(self.status) in MAXIMUM_ONLY

    @property
    def breached(self) -> bool:
        if self.maximum is not None:
            return self.count > self.maximum
        return self.ratio is not None and self.threshold is not None and self.ratio < self.threshold

    @property
    def exceeds_total(self) -> bool:
        """More users counted than the total (which counts enabled users only)."""
        return self.count > self.total

    @property
    def change_points(self) -> Fraction | None:
        """Change since the previous snapshot, in percentage points (exact: 85% -> 80% is -5)."""
        if self.ratio is None or self.previous_ratio is None:
            return None
        return (self.ratio - self.previous_ratio) * 100


@dataclass(frozen=True)
class Limits:
    """THRESHOLDS, parsed: `status=minimum` ratios and `status<=maximum` numbers of users."""

    minimums: dict[str, Fraction]
    maximums: dict[str, int]


def parse_limits(text: str) -> Limits:
    """Parse `mfaRegistered=95%,capable=0.9,adminsWithoutMfa<=0,mfaRegistered.admins=100%`;
    ValueError names what is wrong. `=` means "at least" (a ratio), `<=` "at most" (users).
    Status names are matched to KNOWN_STATUSES, and populations to POPULATIONS, without regard
    to case."""
    minimums: dict[str, Fraction] = {}
    maximums: dict[str, int] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, sep, raw = (s.strip() for s in part.partition("="))
        at_most = name.endswith("<")
        name = name.removesuffix("<").strip()
        if not sep or not _NAME.fullmatch(name):
            raise ValueError(
                f"{part!r} is not status=minimum or status<=maximum (e.g. mfaRegistered=95%)"
            )
        status = known_status(name)
        if status in minimums or status in maximums:
            raise ValueError(f"{status} is given twice")
        if at_most:
            maximums[status] = _parse_maximum(status, raw)
        elif metric_of(status) in MAXIMUM_ONLY:
            raise ValueError(f"{status} takes a maximum number of users: write {status}<=0")
        else:
            minimums[status] = _parse_minimum(status, raw)
    if not minimums and not maximums:
        raise ValueError("no status=minimum pairs (e.g. mfaRegistered=95%,capable=90%)")
    return Limits(minimums, maximums)


def parse_thresholds(text: str) -> dict[str, Fraction]:
    """Only the minimums of `text`, which must have no maximum (for callers that need none)."""
    limits = parse_limits(text)
    if limits.maximums:
        raise ValueError(f"expected minimums only, got {', '.join(limits.maximums)} <= ...")
    return limits.minimums


def _parse_maximum(name: str, raw: str) -> int:
    if not raw.isdigit() or len(raw) > 18:
        raise ValueError(f"{name}: {raw!r} is not a whole number of users (e.g. {name}<=0)")
    return int(raw)


def known_status(name: str) -> str:
    """The documented status `name` means (any case), or ValueError with a suggestion;
    `metric.population` names a documented metric and one of POPULATIONS."""
    metric, dot, population = name.partition(".")
    if dot:
        return f"{known_status(metric)}.{_known_population(name, population)}"
    by_lower = {status.lower(): status for status in KNOWN_STATUSES}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    hint = f"did you mean {by_lower[close[0]]!r}? " if close else ""
    raise ValueError(
        f"{name!r} is not a status the report carries: {hint}"
        f"the statuses are {', '.join(KNOWN_STATUSES)}"
    )


def _known_population(name: str, population: str) -> str:
    if population.lower() in POPULATIONS:
        return population.lower()
    close = difflib.get_close_matches(population.lower(), POPULATIONS, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}? " if close else ""
    raise ValueError(
        f"{name!r} names no population the report counts: {hint}"
        f"the populations are {', '.join(POPULATIONS)} (e.g. mfaRegistered.admins=100%)"
    )


def population_statuses(statuses: Iterable[str]) -> tuple[str, ...]:
    """Those of `statuses` counted over one population (`mfaRegistered.admins`), in order."""
    return tuple(dict.fromkeys(s for s in statuses if population_of(s) is not None))


def _parse_minimum(name: str, raw: str) -> Fraction:
    percent = raw.endswith("%")
    digits = (raw[:-1] if percent else raw).strip()
    if not _NUMBER.fullmatch(digits):
        if digits.startswith("-") and _NUMBER.fullmatch(digits[1:]):
            raise ValueError(f"{name}: {raw!r} is outside 0..1 / 0%..100%")
        raise ValueError(f"{name}: {raw!r} is not a ratio (0.95) or a percentage (95%)")
    number = Fraction(digits)  # exact: Fraction("56.7") is 567/10
    ratio = number / 100 if percent else number
    if not 0 <= ratio <= 1:
        hint = " (write 95% or 0.95)" if not percent and 1 < number <= 100 else ""
        raise ValueError(f"{name}: {raw!r} is outside 0..1 / 0%..100%{hint}")
    return ratio


def readings(
    report: Report,
    thresholds: Mapping[str, Fraction],
    previous: Report | None = None,
    maximums: Mapping[str, int] | None = None,
) -> list[Reading]:
    """Every status of `report`, limited ones first in configured order, then the rest."""
    maximums = maximums or {}
    limited = [*thresholds, *maximums]
    ordered = [s for s in limited if s in report.counts]
    ordered += [s for s in report.counts if s not in limited]
    return [
        Reading(
            status=status,
            count=report.counts[status],
            total=report.total_of(status),
            ratio=ratio_of(report, status),
            threshold=thresholds.get(status),
            previous_ratio=ratio_of(previous, status) if previous else None,
            maximum=maximums.get(status),
        )
        for status in ordered
    ]


def missing_statuses(
    report: Report, thresholds: Mapping[str, Fraction], maximums: Mapping[str, int] | None = None
) -> list[str]:
    """Limited statuses the report does not carry: a typo, or a status Graph dropped."""
    return [status for status in [*thresholds, *(maximums or {})] if status not in report.counts]


def ratio_of(report: Report, status: str) -> Fraction | None:
    """`status`'s count over the users it counts (its population's, for `metric.population`);
    None when the report lacks it or counts none of those users."""
    count = report.counts.get(status)
    total = report.total_of(status)
    if count is None or total == 0:
        return None
    return Fraction(count, total)


def label(status: str) -> str:
    """A name people read: the documented statuses' own, else the status's words spelt out;
    a population's in brackets after it ("Registered for MFA (admins)")."""
    population = population_of(status)
    if population is not None:
        return f"{label(metric_of(status))} ({population})"
    known = STATUS_LABELS.get(status)
    if known is not None:
        return known
    words = _WORD.findall(status)
    if not words:
        return status
    spelt = [_ACRONYMS.get(word.lower(), word.lower()) for word in words]
    first = spelt[0]
    return " ".join([first[:1].upper() + first[1:], *spelt[1:]])
