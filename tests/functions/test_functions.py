"""The functions through their function.json, as the host runs them, end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from shared.usecases.fetching import QUEUE_TRIES, Attempt
from standins.functions_host import ROOT, FunctionLoadError
from standins.reports import SHAPES, report
from tests.conftest import CycleHarness


def test_every_binding_matches_a_parameter_of_its_entry_point(cycle: CycleHarness) -> None:
    assert cycle.host.function_names() == [
        "CheckThresholds",
        "ContinueFetch",
        "FetchReport",
        "FetchTenant",
        "WeeklyDigest",
    ]
    for name in cycle.host.function_names():
        # Microsoft's worker refuses (FunctionLoadError) any parameter or annotation mismatch.
        cycle.host.load(name)


def test_every_queue_a_function_writes_to_has_exactly_one_listener(cycle: CycleHarness) -> None:
    host = cycle.host
    listeners = {
        b["queueName"]: name
        for name in host.function_names()
        for b in host.bindings(name)
        if b["type"] == "queueTrigger"
    }
    outputs = {
        (name, b["queueName"])
        for name in host.function_names()
        for b in host.bindings(name)
        if b["type"] == "queue"
    }

    assert listeners == {
        "snapshots-to-check": "CheckThresholds",
        "fetch-continuations": "ContinueFetch",
        "tenants-to-fetch": "FetchTenant",
    }
    assert outputs == {
        ("FetchReport", "snapshots-to-check"),
        ("FetchReport", "fetch-continuations"),
        ("ContinueFetch", "snapshots-to-check"),
        ("ContinueFetch", "fetch-continuations"),
        ("FetchReport", "tenants-to-fetch"),
        ("FetchTenant", "snapshots-to-check"),
        ("FetchTenant", "fetch-continuations"),
    }
    for name in host.function_names():  # WeeklyDigest has no queue at all
        connections = {b["connection"] for b in host.bindings(name) if "queue" in b["type"]}
        assert connections <= {"AzureWebJobsStorage"}, name


def test_fetch_schedule_is_a_setting_the_host_must_have(cycle: CycleHarness) -> None:
    cycle.monkeypatch.delenv("FETCH_SCHEDULE")
    with pytest.raises(FunctionLoadError, match="FETCH_SCHEDULE"):
        cycle.run()


def test_a_breaching_report_posts_exactly_one_card_naming_the_metric(cycle: CycleHarness) -> None:
    cycle.use_webhook()
    cycle.graph.report_body = json.dumps(
        report(1000, {"mfaRegistered": 820, "capable": 950, "registered": 960})
    ).encode()

    result = cycle.run()

    assert [d.poisoned for d in result.deliveries] == [False]
    assert len(cycle.teams.requests) == 1
    posted = cycle.teams.requests[0].json()
    assert posted["type"] == "message"
    attachment = posted["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    text = json.dumps(card)
    assert "Registered for MFA" in text and "82%" in text and "95%" in text
    assert "820 of 1,000" in text
    # Healthy metrics are shown too.
    assert "Capable of SSPR" in text and "950 of 1,000" in text and "Meets 90%" in text


def test_a_healthy_report_posts_nothing(cycle: CycleHarness) -> None:
    cycle.use_webhook()
    cycle.graph.report_body = json.dumps(
        report(1000, {"mfaRegistered": 990, "capable": 950})
    ).encode()

    result = cycle.run()

    assert [d.poisoned for d in result.deliveries] == [False]
    assert cycle.teams.requests == []
    assert len(cycle.snapshots()) == 1


def test_without_a_webhook_the_breach_is_logged_at_warning_with_the_same_facts(
    cycle: CycleHarness, caplog: pytest.LogCaptureFixture
) -> None:
    cycle.graph.report_body = json.dumps(report(1000, {"mfaRegistered": 820})).encode()

    cycle.run()

    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    alert = next(w for w in warnings if "TEAMS_WEBHOOK_URL is not set" in w)
    assert "Registered for MFA" in alert and "82%" in alert and "95%" in alert
    assert cycle.teams.requests == []


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_documented_shape_is_stored_with_typed_counts(cycle: CycleHarness, shape: str) -> None:
    counts = {"registered": 23423, "enabled": 23000, "capable": 22000, "mfaRegistered": 21000}
    cycle.graph.report_body = json.dumps(report(23423, counts, shape=shape)).encode()

    cycle.run()

    (entity,) = cycle.snapshots()
    assert entity["TotalUserCount"].value == 23423
    assert entity["TotalUserCount"].edm_type.value == "Edm.Int64"
    stored = {
        k.removeprefix("Count_"): v.value for k, v in entity.items() if k.startswith("Count_")
    }
    assert stored == counts
    assert entity["PartitionKey"] == entity["TenantId"] == cycle.identity.tenant_id
    assert entity["Source"] == "beta/reports/getCredentialUserRegistrationCount"
    assert entity["ReportId"]
    assert entity["FetchedAt"].isoformat().startswith("2026-11-02T06:00:05")


def test_unknown_statuses_are_stored_not_dropped(cycle: CycleHarness) -> None:
    cycle.graph.report_body = json.dumps(
        report(10, {"mfaRegistered": 10, "passkeyCapable": 4})
    ).encode()

    cycle.run()

    (entity,) = cycle.snapshots()
    assert entity["Count_passkeyCapable"].value == 4


def test_the_token_comes_from_the_managed_identity_and_graph_receives_it(
    cycle: CycleHarness,
) -> None:
    cycle.run()

    (token_request,) = cycle.identity.requests
    assert token_request.query["resource"] == [cycle.graph.url]
    assert token_request.query["api-version"] == ["2019-08-01"]
    (report_request,) = cycle.graph.report_requests
    assert report_request.headers["authorization"] == f"Bearer {cycle.identity.tokens_issued[0]}"
    assert report_request.headers["client-request-id"]


def test_a_user_assigned_identity_is_asked_for_by_its_client_id(cycle: CycleHarness) -> None:
    cycle.configure(AZURE_CLIENT_ID="11111111-2222-3333-4444-555555555555")

    cycle.run()

    assert cycle.identity.requests[0].query["client_id"] == ["11111111-2222-3333-4444-555555555555"]


def test_one_credential_serves_many_runs_from_its_token_cache(cycle: CycleHarness) -> None:
    cycle.run()
    cycle.clock.advance(days=1)
    cycle.run()

    assert len(cycle.graph.report_requests) == 2
    assert len(cycle.identity.tokens_issued) == 1


def test_snapshots_are_listed_newest_first(cycle: CycleHarness) -> None:
    cycle.run()
    cycle.clock.advance(days=1)
    cycle.run()

    days = [e["FetchedAt"].day for e in cycle.snapshots()]  # Table Storage's RowKey order
    assert days == [3, 2]


def test_importing_the_functions_does_no_io_and_builds_no_client() -> None:
    # Cold starts pay for work done at import, and a function that fails at import leaves no
    # log. After importing the libraries, importing both functions must open no file but
    # Python source, make no connection and read no setting.
    probe = textwrap.dedent(
        """
        import os, sys
        import azure.functions, azure.identity, azure.data.tables, httpx  # the dependencies
        events = []
        def audit(event, args):
            if event == "open" and isinstance(args[0], str) \\
                    and not args[0].endswith((".py", ".pyc")) and not os.path.isdir(args[0]):
                events.append((event, str(args[0])))
            elif event.startswith("socket."):
                events.append((event, repr(args)[:80]))
        class NoEnviron(dict):
            def __getitem__(self, key): events.append(("environ", key)); raise KeyError(key)
            def get(self, key, default=None): events.append(("environ", key)); return default
        sys.addaudithook(audit)
        os.environ = NoEnviron()
        import FetchReport, CheckThresholds, ContinueFetch, WeeklyDigest
        print(events)
        """
    )
    result = subprocess.run(
        [sys.executable, "-B", "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "SYSTEMROOT")},
    )
    assert result.stdout.strip() == "[]", result.stdout


def test_a_continuation_s_last_try_is_the_one_host_json_allows() -> None:
    # ContinueFetch announces a failure only on its last try: it must know the host's count.
    host = json.loads((ROOT / "host.json").read_text())

    assert host["extensions"]["queues"]["maxDequeueCount"] == QUEUE_TRIES
    assert Attempt.from_dequeue_count(QUEUE_TRIES).final
    assert not Attempt.from_dequeue_count(QUEUE_TRIES - 1).final
