"""What the stores hand the use cases: plain records, no azure-data-tables types.

A `Record` is a state as read, with the claim on it (someone is posting the notice that goes
with it) and the version a conditional write needs (an ETag, or a row's ETags). The rule that
uses them, "claim, then post, then record what was told", is shared/usecases/announcing.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Generic, TypeVar

S = TypeVar("S")


@dataclass(frozen=True)
class Claim:
    """Who is posting the notice that goes with a state, since when (the wall clock)."""

    owner: str  # a snapshot's RowKey for a check; a run's own id otherwise
    since: datetime


@dataclass(frozen=True)
class Record(Generic[S]):
    """A state as read: what was told so far, the claim on it, and its version (opaque)."""

    state: S
    claim: Claim | None = None
    version: object = field(default=None, repr=False, compare=False)
