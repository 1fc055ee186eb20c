"""The weekly digest of many tenants (TENANTS): one card, one row per tenant, worst first (pure).

Each tenant's row: its headline coverage (the first thresholded metric, mfaRegistered by
default), and its state: which metrics are outside their limits, fetching fails (or its newest
snapshot is older than STALE_AFTER, shared/core/snapshot.py: not fetching), no report, or ok.
Worst first: breaches, then failing fetches, then no report, then ok; lowest coverage first
within each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from shared.core.coverage import Reading, label
from shared.messages.model import Message
from shared.messages.wording import percent, threshold_text

MAX_ROWS = 150  # a card past ~28 KB is refused by Teams; the rest are counted, not listed


@dataclass(frozen=True)
class TenantSummary:
    label: str  # `Contoso (id)`, or the id
    headline: Reading | None  # None: no report in 30 days
    firing: tuple[str, ...] = ()  # alert names firing (metrics, no users, ...)
    fetch_failing: bool = False
    stale_days: int | None = None  # the newest snapshot's age, if older than STALE_AFTER

    @property
    def rank(self) -> tuple[int, Fraction]:
        ratio = self.headline.ratio if self.headline and self.headline.ratio is not None else None
        not_fetching = self.fetch_failing or self.stale_days is not None
        level = 0 if self.firing else 1 if not_fetching else 2 if ratio is None else 3
        return level, ratio if ratio is not None else Fraction(-1)

    @property
    def state(self) -> str:
        stale = None
        if self.stale_days is not None:
            days = self.stale_days
            stale = f"not fetching: the newest snapshot is {days} day{'s' if days != 1 else ''} old"
        if self.firing:
            firing = "FIRING: " + ", ".join(label(name) for name in self.firing)
            return f"{firing} ({stale})" if stale else firing  # old news, said as old
        if self.fetch_failing:
            return "fetching fails"
        if stale:
            return stale
        if self.headline is None:
            return "no report in 30 days"
        return "ok"


def rollup_message(*, now: datetime, tenants: Sequence[TenantSummary]) -> Message:
    ordered = sorted(tenants, key=lambda t: t.rank)
    attention = [t for t in ordered if t.rank[0] < 3]
    lines = [_line(t) for t in ordered[:MAX_ROWS]]
    if len(ordered) > MAX_ROWS:
        lines.append(f"The {len(ordered) - MAX_ROWS} best tenants are not listed (all ok).")
    title = (
        f"Weekly digest: {len(attention)} of {len(ordered)} tenants need attention"
        if attention
        else f"Weekly digest: all {len(ordered)} tenants meet their thresholds"
    )
    return Message(
        title=title,
        severity="attention" if attention else "good",
        lines=lines,
        footer=f"{len(ordered)} tenants · week to {now:%Y-%m-%d %H:%M} UTC",
    )


def _line(tenant: TenantSummary) -> str:
    """`**Contoso (id)**: 98.0% Registered for MFA (980 of 1,000), threshold 95%: ok`."""
    reading = tenant.headline
    if reading is None:
        return f"**{tenant.label}**: {tenant.state}"
    coverage = "undefined" if reading.ratio is None else percent(reading.ratio, reading.threshold)
    limit = f", threshold {threshold_text(reading.threshold)}" if reading.threshold else ""
    return (
        f"**{tenant.label}**: {coverage} {label(reading.status)} "
        f"({reading.count:,} of {reading.total:,}){limit}: {tenant.state}"
    )
