"""At the worker's level (INFO), a run's log is the app's story, not the SDKs' request dumps."""

from __future__ import annotations

import json
import logging

import pytest

from shared.bootstrap import SDK_HTTP_LOGGERS
from standins.reports import report
from tests.conftest import CycleHarness

# Loggers of the app itself: shared/ and the function folders' entry points.
APP_LOGGERS = ("shared", "FetchReport", "CheckThresholds", "ContinueFetch", "WeeklyDigest")


def breaching_cycle(cycle: CycleHarness, caplog: pytest.LogCaptureFixture) -> list[str]:
    """One full cycle with a breach posted to Teams, logged as the worker logs: every record
    at INFO and above reaches the host. Returns each record as `logger: message`."""
    cycle.graph.report_body = json.dumps(report(1000, {"mfaRegistered": 800})).encode()
    caplog.set_level(logging.INFO)
    cycle.run()
    assert len(cycle.teams.cards) == 1
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records]


def from_sdks(records: list[str]) -> list[str]:
    return [r for r in records if r.startswith(SDK_HTTP_LOGGERS)]


def test_at_info_a_cycle_logs_no_per_request_sdk_lines(
    cycle: CycleHarness, caplog: pytest.LogCaptureFixture
) -> None:
    cycle.use_webhook()

    records = breaching_cycle(cycle, caplog)

    assert from_sdks(records) == []
    assert not [r for r in records if "Request URL" in r or "HTTP Request:" in r]


def test_the_app_s_own_records_tell_the_run_in_a_couple_of_dozen_lines(
    cycle: CycleHarness, caplog: pytest.LogCaptureFixture
) -> None:
    cycle.use_webhook()

    records = breaching_cycle(cycle, caplog)

    own = [r for r in records if r.startswith(APP_LOGGERS)]
    assert len(own) <= 24, "\n".join(own)
    story = "\n".join(own)
    for step in ("Graph report received", "stored snapshot", "BELOW", "accepted the card"):
        assert step in story
    # Nothing else at INFO but the worker's own line per invocation.
    assert {r.split(":")[0] for r in records} - set(r.split(":")[0] for r in own) <= {
        "azure.functions"
    }


def test_log_http_requests_turns_the_sdks_request_logging_on_for_troubleshooting(
    cycle: CycleHarness, caplog: pytest.LogCaptureFixture
) -> None:
    cycle.configure(TEAMS_WEBHOOK_URL=cycle.teams.webhook_url, LOG_HTTP_REQUESTS="true")

    records = breaching_cycle(cycle, caplog)

    logged = "\n".join(from_sdks(records))
    assert "azure.core.pipeline.policies.http_logging_policy: Request URL" in logged
    assert "httpx: HTTP Request: POST" in logged
    assert "[redacted]" in logged and "sig=FAKE" not in logged  # still scrubbed
