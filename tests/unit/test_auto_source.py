"""REPORT_SOURCE=auto's switch, against in-memory fakes for its ports (no I/O)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone

import pytest

from shared.bootstrap import App
from shared.core.report import Report
from shared.errors import GraphError
from shared.settings import Settings
from shared.sources import Checkpoint, FetchedReport
from shared.sources.auto import AutoSource, offers_beta
from shared.sources.graph_client import is_gone
from shared.sources.v1 import API as V1_API

NOW = datetime(2026, 11, 2, 6, 0, 5, tzinfo=timezone.utc)
GONE = GraphError("gone", status=404, code="Request_ResourceNotFound")


@dataclass
class FakeSource:
    api: str
    permission: str = "Some.Permission"
    error: GraphError | None = None
    calls: list[Checkpoint | None] = field(default_factory=list)

    def fetch(
        self, checkpoint: Checkpoint | None = None, *, deadline: datetime | None = None
    ) -> FetchedReport:
        self.calls.append(checkpoint)
        if self.error is not None:
            raise self.error
        return FetchedReport("t", Report(None, 1, {}), api=self.api)


@dataclass
class FakeState:
    reason: str | None = None
    saved: list[str] = field(default_factory=list)

    def get_source_switch(self) -> str | None:
        return self.reason


@dataclass
class Harness:
    beta: FakeSource = field(default_factory=lambda: FakeSource("beta"))
    v1: FakeSource = field(default_factory=lambda: FakeSource("v1"))
    state: FakeState = field(default_factory=FakeState)
    told: list[str] = field(default_factory=list)
    announce_fails: bool = False

    def announce(self, reason: str, now: datetime) -> bool:
        # As shared.usecases.announcing's: told and recorded together, or neither.
        if self.announce_fails:
            return False
        self.told.append(reason)
        self.state.saved.append(reason)
        self.state.reason = reason
        return True

    def source(self) -> AutoSource:
        return AutoSource(
            beta=self.beta, v1=self.v1, state=self.state, announce=self.announce, clock=lambda: NOW
        )


def test_reads_beta_while_it_answers() -> None:
    h = Harness()

    fetched = h.source().fetch()

    assert isinstance(fetched, FetchedReport) and fetched.api == "beta"
    assert h.v1.calls == [] and h.told == [] and h.state.saved == []


def test_a_gone_beta_reads_v1_announces_then_records_and_stays_on_v1() -> None:
    h = Harness()
    h.beta.error = GONE
    source = h.source()

    first, second = source.fetch(), source.fetch()

    assert isinstance(first, FetchedReport) and first.api == "v1"
    assert isinstance(second, FetchedReport) and second.api == "v1"
    assert len(h.beta.calls) == 1
    assert len(h.told) == 1 and h.state.saved == h.told


def test_an_announcement_that_fails_is_tried_again_on_the_next_run() -> None:
    h = Harness(announce_fails=True)
    h.beta.error = GONE
    source = h.source()

    first, second = source.fetch(), source.fetch()

    assert isinstance(first, FetchedReport) and first.api == "v1"
    assert isinstance(second, FetchedReport) and second.api == "v1"
    assert h.state.saved == [] and len(h.beta.calls) == 2


def test_a_switch_recorded_before_is_not_announced_again() -> None:
    h = Harness(state=FakeState(reason="gone last week"))
    h.beta.error = GONE

    h.source().fetch()

    assert h.told == [] and h.state.saved == []
    assert len(h.v1.calls) == 1


def test_errors_that_are_not_gone_are_raised_and_v1_is_not_read() -> None:
    h = Harness()
    h.beta.error = GraphError("denied", status=403, code="Authorization_RequestDenied")

    with pytest.raises(GraphError, match="denied"):
        h.source().fetch()

    assert h.v1.calls == [] and h.state.saved == []


def test_a_checkpoint_resumes_the_v1_pass() -> None:
    h = Harness()
    checkpoint = Checkpoint(next_link="https://graph.example/next", tally={})

    h.source().fetch(checkpoint)

    assert h.v1.calls == [checkpoint] and h.beta.calls == []


@pytest.mark.parametrize(
    ("status", "code", "message", "gone"),
    [
        (404, "Request_ResourceNotFound", "Gone.", True),
        (410, None, None, True),
        (
            400,
            "BadRequest",
            "Resource not found for the segment 'getCredentialUserRegistrationCount'.",
            True,
        ),
        (400, "BadRequest", "Invalid filter clause.", False),
        (400, None, "Resource not found for the segment 'x'.", False),
        (403, "Authorization_RequestDenied", "Resource not found for the segment 'x'.", False),
    ],
)
def test_gone_is_404_410_or_a_bad_request_naming_a_missing_segment(
    status: int, code: str | None, message: str | None, gone: bool
) -> None:
    error = GraphError("x", status=status, code=code, graph_message=message)

    assert is_gone(error) is gone


def test_a_national_cloud_reads_v1_from_the_start_and_says_why_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    h = Harness()
    source = AutoSource(
        beta=h.beta,
        v1=h.v1,
        state=h.state,
        announce=h.announce,
        clock=lambda: NOW,
        beta_offered=False,
    )

    source.fetch()
    source.fetch()

    assert h.beta.calls == [] and len(h.v1.calls) == 2
    assert h.told == [] and h.state.saved == []  # nothing to switch from
    assert sum("national cloud" in r.message for r in caplog.records) == 1
    assert source.api == "v1"


@pytest.mark.parametrize(
    ("endpoint", "offered"),
    [
        ("https://graph.microsoft.com", True),
        ("http://127.0.0.1:8081", True),  # the loopback stand-in: beta first, as globally
        ("https://graph.microsoft.us", False),
        ("https://dod-graph.microsoft.us", False),
        ("https://microsoftgraph.chinacloudapi.cn", False),
        ("https://GRAPH.MICROSOFT.US", False),
    ],
)
def test_beta_is_offered_everywhere_but_the_national_clouds(endpoint: str, offered: bool) -> None:
    assert offers_beta(endpoint) is offered


def test_the_composition_root_gives_a_national_cloud_the_v1_source_from_the_start() -> None:
    environ = {"AzureWebJobsStorage": "UseDevelopmentStorage=true"}
    app = App(Settings.from_env({**environ, "GRAPH_ENDPOINT": "https://graph.microsoft.us"}))
    try:
        assert app.source.api == V1_API
    finally:
        app.close()
