"""The report source port: what the use case asks of any report source, and what it gets back.

    ReportSource.fetch(checkpoint | None, *, deadline) -> FetchedReport | Checkpoint

A source fetches the tenant's registration counts and validates them; a source whose pass may
outlive one invocation (the v1.0 one) returns a `Checkpoint` instead, and a later call given
that checkpoint resumes where it stopped. Every failure is raised (CredentialError, GraphError,
ReportFormatError); nothing partial is ever returned as a report.

Implementations: `shared.sources.beta.BetaSource`, `shared.sources.v1.V1Source`, and the
wrapper `shared.sources.auto.AutoSource`; the composition root picks one (REPORT_SOURCE).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from shared.core.report import Report


@dataclass(frozen=True)
class FetchedReport:
    """A validated report, for the tenant whose token fetched it."""

    tenant_id: str
    report: Report
    # Which source counted it: its Graph path, stored as the snapshot's `Source`.
    api: str


@dataclass(frozen=True)
class Checkpoint:
    """Where a pass stopped: the next page's link and the counters so far (no names)."""

    next_link: str
    tally: Mapping[str, Any]

    def to_json(self) -> str:
        return json.dumps({"nextLink": self.next_link, "tally": self.tally}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Checkpoint:
        """ValueError if `text` is not a checkpoint (the pass then starts over)."""
        data = json.loads(text)
        if not isinstance(data, dict):
            raise ValueError("a checkpoint is a JSON object")
        link, tally = data.get("nextLink"), data.get("tally")
        if not isinstance(link, str) or not isinstance(tally, dict):
            raise ValueError("a checkpoint needs nextLink (a string) and tally (an object)")
        return cls(next_link=link, tally=tally)


class ReportSource(Protocol):
    """One way of getting the tenant's registration report from Graph."""

    @property
    def api(self) -> str:
        """The Graph path this source reads (the snapshot's `Source`)."""
        ...

    @property
    def permission(self) -> str:
        """The Graph application permission this source needs."""
        ...

    def fetch(
        self, checkpoint: Checkpoint | None = None, *, deadline: datetime | None = None
    ) -> FetchedReport | Checkpoint:
        """The report, or (only for a source that pages and was given a deadline it would
        outlive) a checkpoint to resume from; raise CredentialError, GraphError or
        ReportFormatError."""
        ...
