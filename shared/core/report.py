"""The registration report as the app knows it, whichever source counted it (pure: no I/O).

How each source's wire format becomes a `Report` lives with the source
(`shared.sources.beta.wire`, `shared.sources.v1.tally`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Table Storage stores counts as Edm.Int64.
INT64_MAX = 2**63 - 1

# The populations a metric can be counted over (v1.0 source only), written `metric.population`
# (`mfaRegistered.admins`): admins are users whose `isAdmin` is true; guests those whose
# `userType` is "guest"; members those whose `userType` is "member" or null.
POPULATIONS = ("admins", "guests", "members")


@dataclass(frozen=True)
class Report:
    """One tenant's registration counts as Graph reported them.

    A status `metric.population` counts that metric over one population only, and its ratio is
    over that population's own total (`totals`), never over `total_users`."""

    report_id: str | None
    total_users: int
    counts: Mapping[str, int]  # status -> number of users, in the order Graph sent them
    totals: Mapping[str, int] = field(default_factory=dict)  # population -> its users

    def total_of(self, status: str) -> int:
        """The number of users `status` is counted over: its population's, or everyone."""
        population = population_of(status)
        if population is None:
            return self.total_users
        return self.totals.get(population, 0)


def population_of(status: str) -> str | None:
    """`admins` for `mfaRegistered.admins`; None for a status counted over every user."""
    _, dot, population = status.partition(".")
    return population if dot else None


def metric_of(status: str) -> str:
    """`mfaRegistered` for `mfaRegistered.admins` (and for `mfaRegistered`)."""
    return status.partition(".")[0]


def kind_of(value: Any) -> str:
    """How a JSON value is named in an error: "an object", "a list", "null"..."""
    if value is None:
        return "null"
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    names |= {int: "an integer", float: "a fractional number"}
    return names.get(type(value), f"a {type(value).__name__}")
