"""The registration report as the app knows it, whichever source counted it (pure: no I/O).

How each source's wire format becomes a `Report` lives with the source
(`shared.sources.beta.wire`, `shared.sources.v1.tally`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Table Storage stores counts as Edm.Int64.
INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class Report:
    """One tenant's registration counts as Graph reported them."""

    report_id: str | None
    total_users: int
    counts: Mapping[str, int]  # status -> number of users, in the order Graph sent them


def kind_of(value: Any) -> str:
    """How a JSON value is named in an error: "an object", "a list", "null"..."""
    if value is None:
        return "null"
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    names |= {int: "an integer", float: "a fractional number"}
    return names.get(type(value), f"a {type(value).__name__}")
