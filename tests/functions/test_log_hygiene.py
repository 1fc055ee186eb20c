"""At the worker's level (INFO), a run's log is the app's story, not the SDKs' request dumps."""

from __future__ import annotations

import json
import logging

import pytest

from shared.hosting import SDK_HTTP_LOGGERS
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
    for step in ("Graph report received", "stored snapshot", "state=firing", "accepted the card"):
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


# The README's documented trace: its key order is the KQL parse-kv's column list.
TRACE_KEYS = ("tenant", "metric", "count", "total", "ratio", "threshold", "maximum", "state")
TRACE_KEYS += ("source",)


def parse_kv(message: str) -> dict[str, str]:
    """What KQL's `parse-kv ... with (pair_delimiter=" ", kv_delimiter="=")` reads."""
    prefix, *pairs = message.split(" ")
    assert prefix == "coverage"
    parsed = dict(pair.split("=", 1) for pair in pairs)
    assert len(parsed) == len(pairs), message  # no key twice, no pair without '='
    return parsed


def test_each_check_writes_one_coverage_trace_per_metric_as_the_readme_documents(
    cycle: CycleHarness, caplog: pytest.LogCaptureFixture
) -> None:
    cycle.use_webhook()
    counts = {"registered": 700, "enabled": 1000, "capable": 950, "mfaRegistered": 800}
    cycle.graph.report_body = json.dumps(report(1000, counts)).encode()
    caplog.set_level(logging.INFO)
    cycle.run()
    records = [f"{r.name}: {r.getMessage()}" for r in caplog.records]

    traces = [r.split(": ", 1)[1] for r in records if ": coverage " in r]
    parsed = {kv["metric"]: kv for kv in map(parse_kv, traces)}
    assert len(parsed) == len(traces)  # one per metric
    assert set(parsed) == {"registered", "enabled", "capable", "mfaRegistered"}
    for kv in parsed.values():
        assert tuple(kv) == TRACE_KEYS
        assert int(kv["count"]) >= 0 and int(kv["total"]) == 1000
        assert kv["tenant"] == cycle.identity.tenant_id
        assert kv["source"] == "beta/reports/getCredentialUserRegistrationCount"
    mfa = parsed["mfaRegistered"]
    assert (mfa["ratio"], mfa["threshold"], mfa["maximum"], mfa["state"]) == (
        "0.8",
        "0.95",
        "none",
        "firing",
    )
    assert parsed["registered"]["state"] == "unchecked"
    assert parsed["registered"]["threshold"] == "none"
    assert (parsed["capable"]["ratio"], parsed["capable"]["state"]) == ("0.95", "ok")
    # The README shows the same keys, in the same order, as its query's parse-kv reads.
    readme = open("README.md", encoding="utf-8").read()
    documented = next(line for line in readme.splitlines() if line.startswith("coverage tenant="))
    assert tuple(pair.split("=")[0] for pair in documented.split(" ")[1:]) == TRACE_KEYS
