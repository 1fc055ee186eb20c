"""infra/grant-reports-read-all.sh against a loopback Graph directory, through an `az rest` double.

The script is run for real by bash; only `az` is a stand-in (standins/az_cli.py), because the
real CLI needs an Azure sign-in. Every request lands on the loopback directory, which checks
what a real Graph would: the bearer token, the body, duplicates. The double logs each call, so
every test also checks that the script only ever called `az rest` on GRAPH_ENDPOINT with a
token for it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from standins import az_cli
from standins.functions_host import ROOT
from standins.graph_directory import GraphDirectoryStandIn

SCRIPT = ROOT / "infra" / "grant-reports-read-all.sh"
PRINCIPAL = "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"
NOT_GRANTED = 3
BAD_ARGUMENTS = 2

needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


@dataclass
class AzDouble:
    bin_dir: Path
    log: Path

    def calls(self) -> list[list[str]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


def option(call: list[str], name: str) -> str:
    return call[call.index(name) + 1]


@pytest.fixture
def graph() -> Iterator[GraphDirectoryStandIn]:
    with GraphDirectoryStandIn() as server:
        server.directory.principals.add(PRINCIPAL)
        yield server


@pytest.fixture
def az(tmp_path: Path) -> AzDouble:
    """An `az` on a PATH of its own that runs the double (never a committed fake binary)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    launcher = bin_dir / "az"
    launcher.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m standins.az_cli "$@"\n')
    launcher.chmod(0o755)
    return AzDouble(bin_dir, tmp_path / "az-calls.jsonl")


def run_script(az: AzDouble, endpoint: str | None, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{az.bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
        az_cli.LOG_ENV: str(az.log),
    }
    if endpoint is not None:
        env["GRAPH_ENDPOINT"] = endpoint
    return subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=60
    )


def grant(
    graph: GraphDirectoryStandIn, az: AzDouble, *args: str
) -> subprocess.CompletedProcess[str]:
    """Run the script against `graph`; every az call it made must be `az rest` on Graph."""
    result = run_script(az, graph.url, *args)
    for call in az.calls():
        assert call[0] == "rest"
        assert option(call, "--url").startswith(graph.url + "/v1.0/"), call
        assert option(call, "--resource") == graph.url, call  # so az gets a token for Graph
    for request in graph.requests:
        assert request.headers["authorization"] == f"Bearer az-double-token-for-{graph.url}"
    return result


@needs_bash
def test_the_first_run_assigns_both_roles_looked_up_by_name(graph, az) -> None:
    result = grant(graph, az, "--principal-id", PRINCIPAL)

    assert result.returncode == 0, result.stderr
    assert "Reports.Read.All granted" in result.stdout
    assert "AuditLog.Read.All granted" in result.stdout
    assert [post.path for post in graph.posts] == [
        f"/v1.0/servicePrincipals/{PRINCIPAL}/appRoleAssignments"
    ] * 2
    assert [post.json() for post in graph.posts] == [
        {
            "principalId": PRINCIPAL,
            "resourceId": graph.directory.graph_sp_id,
            # The Application roles, with ids fresh per run.
            "appRoleId": graph.directory.application_role_id(role),
        }
        for role in ("Reports.Read.All", "AuditLog.Read.All")
    ]
    assert graph.directory.assignments == [
        {"id": assignment["id"], **post.json()}
        for assignment, post in zip(graph.directory.assignments, graph.posts, strict=True)
    ]


@needs_bash
def test_an_identity_granted_only_reports_read_all_gets_just_auditlog_read_all(graph, az) -> None:
    graph.directory.assign(PRINCIPAL, "Reports.Read.All")  # by an earlier version of the script

    check = grant(graph, az, "--principal-id", PRINCIPAL, "--check")
    result = grant(graph, az, "--principal-id", PRINCIPAL)

    assert check.returncode == NOT_GRANTED, check.stderr
    assert "Reports.Read.All is granted" in check.stdout
    assert "AuditLog.Read.All is NOT granted" in check.stdout
    assert result.returncode == 0, result.stderr
    assert "Reports.Read.All is already granted" in result.stdout
    assert "AuditLog.Read.All granted" in result.stdout
    [post] = graph.posts
    assert post.json()["appRoleId"] == graph.directory.application_role_id("AuditLog.Read.All")


@needs_bash
def test_a_second_run_says_already_granted_and_posts_nothing(graph, az) -> None:
    grant(graph, az, "--principal-id", PRINCIPAL)

    again = grant(graph, az, "--principal-id", PRINCIPAL)

    assert again.returncode == 0, again.stderr
    assert "Reports.Read.All is already granted" in again.stdout
    assert "AuditLog.Read.All is already granted" in again.stdout
    assert len(graph.posts) == 2
    assert len(graph.directory.assignments) == 2


@needs_bash
def test_check_says_not_granted_with_exit_3_before_and_granted_with_0_after_without_writing(
    graph, az
) -> None:
    before = grant(graph, az, "--principal-id", PRINCIPAL, "--check")
    assert graph.posts == []
    grant(graph, az, "--principal-id", PRINCIPAL)
    after = grant(graph, az, "--check", "--principal-id", PRINCIPAL)

    assert before.returncode == NOT_GRANTED, before.stderr
    assert "NOT granted" in before.stdout
    assert after.returncode == 0, after.stderr
    assert "Reports.Read.All is granted" in after.stdout
    assert "AuditLog.Read.All is granted" in after.stdout
    assert len(graph.posts) == 2  # the grant's, not the checks'


@needs_bash
def test_another_graph_permission_does_not_count_as_the_grant(graph, az) -> None:
    graph.directory.assign(PRINCIPAL, "User.Read.All")

    result = grant(graph, az, "--principal-id", PRINCIPAL, "--check")

    assert result.returncode == NOT_GRANTED, result.stderr


@needs_bash
def test_a_grant_on_a_later_page_of_assignments_is_found(graph, az) -> None:
    for role in ("User.Read.All", "AuditLog.Read.All", "Reports.Read.All"):
        graph.directory.assign(PRINCIPAL, role)
    graph.page_size = 1

    check = grant(graph, az, "--principal-id", PRINCIPAL, "--check")
    again = grant(graph, az, "--principal-id", PRINCIPAL)

    assert check.returncode == 0, check.stderr
    assert again.returncode == 0, again.stderr
    assert "already granted" in again.stdout
    assert graph.posts == []
    skiptokens = [r.query.get("$skiptoken") for r in graph.requests if "appRole" in r.path]
    assert skiptokens[:3] == [None, ["1"], ["2"]]


@needs_bash
def test_a_next_page_link_to_another_host_is_not_followed(graph, az) -> None:
    graph.directory.assign(PRINCIPAL, "User.Read.All")
    graph.directory.assign(PRINCIPAL, "Reports.Read.All")
    graph.page_size = 1
    graph.next_link_root = "https://graph.example.invalid"

    result = grant(graph, az, "--principal-id", PRINCIPAL)  # also asserts every az call's URL

    assert result.returncode == 1
    assert "refusing to follow it: https://graph.example.invalid/" in result.stderr
    assert graph.posts == []


@needs_bash
def test_a_grant_made_meanwhile_is_taken_as_already_granted(graph, az) -> None:
    graph.directory.assign(PRINCIPAL, "Reports.Read.All")
    graph.lagging_reads = True  # the listing has not caught up; the POST meets the duplicate

    result = grant(graph, az, "--principal-id", PRINCIPAL)

    assert result.returncode == 0, result.stderr
    assert "Reports.Read.All is already granted" in result.stdout
    assert "AuditLog.Read.All granted" in result.stdout
    assert len(graph.posts) == 2
    assert len(graph.directory.assignments) == 2


@needs_bash
def test_an_unknown_principal_is_explained_and_nothing_is_written(graph, az) -> None:
    unknown = "0b7e5d1c-0000-4000-8000-000000000000"

    result = grant(graph, az, "--principal-id", unknown)

    assert result.returncode == 1
    assert f"no service principal has object id {unknown}" in result.stderr
    assert "principalId" in result.stderr and "not its client id" in result.stderr
    assert graph.posts == []


@needs_bash
@pytest.mark.parametrize("denied", [{"POST"}, {"GET", "POST"}], ids=["reader", "nobody"])
def test_a_caller_without_the_rights_is_told_which_role_and_permissions_are_needed(
    graph, az, denied
) -> None:
    graph.deny = denied

    result = grant(graph, az, "--principal-id", PRINCIPAL)

    assert result.returncode == 1
    assert "Authorization_RequestDenied" in result.stderr  # az's own message is kept
    assert "Privileged Role Administrator" in result.stderr
    assert "AppRoleAssignment.ReadWrite.All and Application.Read.All" in result.stderr
    assert graph.directory.assignments == []


@needs_bash
def test_a_caller_who_may_only_read_can_still_check(graph, az) -> None:
    graph.deny = {"POST"}

    result = grant(graph, az, "--principal-id", PRINCIPAL, "--check")

    assert result.returncode == NOT_GRANTED, result.stderr
    assert graph.posts == []


@needs_bash
@pytest.mark.parametrize(
    "bad",
    [
        "not-a-guid",
        "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b/../x",
        "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b?$x=1",
        "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4",
    ],
)
def test_a_principal_id_that_is_not_a_guid_is_refused_before_any_request(graph, az, bad) -> None:
    result = grant(graph, az, "--principal-id", bad)

    assert result.returncode == 1
    assert "must be the managed identity's object (principal) id, a GUID" in result.stderr
    assert az.calls() == []
    assert graph.requests == []


@needs_bash
@pytest.mark.parametrize("args", [[], ["--check"], ["--principal-id"], ["--principal-id", ""]])
def test_a_missing_principal_id_is_refused_with_usage(graph, az, args) -> None:
    result = grant(graph, az, *args)

    assert result.returncode == BAD_ARGUMENTS
    assert "--principal-id" in result.stderr and "usage:" in result.stderr
    assert az.calls() == []


@needs_bash
def test_a_plain_http_graph_endpoint_is_refused(az) -> None:
    result = run_script(az, "http://graph.microsoft.com", "--principal-id", PRINCIPAL)

    assert result.returncode == 1
    assert "must be https://" in result.stderr
    assert az.calls() == []


@needs_bash
def test_the_default_endpoint_is_graph_and_the_double_never_lets_it_leave_the_machine(az) -> None:
    result = run_script(az, None, "--principal-id", PRINCIPAL)

    assert result.returncode == 1
    [call] = az.calls()
    assert option(call, "--url").startswith("https://graph.microsoft.com/v1.0/servicePrincipals?")
    assert option(call, "--resource") == "https://graph.microsoft.com"
    assert "refuses non-loopback host 'graph.microsoft.com'" in result.stderr


@needs_bash
def test_graph_is_looked_up_by_its_app_id_with_a_url_encoded_filter(graph, az) -> None:
    grant(graph, az, "--principal-id", PRINCIPAL, "--check")

    lookup = graph.requests[0]
    assert lookup.path == "/v1.0/servicePrincipals"
    assert lookup.query["$filter"] == ["appId eq '00000003-0000-0000-c000-000000000000'"]
    assert " " not in option(az.calls()[0], "--url")


@needs_bash
@pytest.mark.parametrize("role", ["Reports.Read.All", "AuditLog.Read.All"])
def test_a_graph_without_an_application_role_fails_clearly(graph, az, role) -> None:
    application_role = graph.directory.application_role_id(role)
    graph.directory.app_roles = [
        r for r in graph.directory.app_roles if r["id"] != application_role
    ]  # a delegated Reports.Read.All stays, and must not be taken for it

    result = grant(graph, az, "--principal-id", PRINCIPAL)

    assert result.returncode == 1
    assert f"no application role named {role}" in result.stderr
    assert graph.posts == []


@needs_bash
def test_a_tenant_without_graphs_service_principal_fails_clearly(graph, az) -> None:
    graph.directory.graph_sp_present = False

    result = grant(graph, az, "--principal-id", PRINCIPAL)

    assert result.returncode == 1
    assert "Microsoft Graph's service principal" in result.stderr
    assert "was not found" in result.stderr
    assert graph.posts == []


# Least privilege: each configuration gets the roles it uses, and no others.

REPORTS, AUDIT_LOG, POLICY = "Reports.Read.All", "AuditLog.Read.All", "Policy.Read.All"


@needs_bash
@pytest.mark.parametrize(
    ("options", "roles"),
    [
        ([], [REPORTS, AUDIT_LOG]),  # auto reads beta until it is gone, then v1
        (["--report-source", "auto"], [REPORTS, AUDIT_LOG]),
        (["--report-source", "beta"], [REPORTS]),
        (["--report-source=v1"], [AUDIT_LOG]),
        (["--enforcement"], [REPORTS, AUDIT_LOG, POLICY]),
        (["--report-source", "beta", "--enforcement"], [REPORTS, POLICY]),
        (["--enforcement", "--report-source", "v1"], [AUDIT_LOG, POLICY]),
    ],
)
def test_each_configuration_is_granted_exactly_the_roles_it_uses_once(
    graph, az, options, roles
) -> None:
    first = grant(graph, az, "--principal-id", PRINCIPAL, *options)
    check = grant(graph, az, "--principal-id", PRINCIPAL, "--check", *options)
    again = grant(graph, az, "--principal-id", PRINCIPAL, *options)

    assert first.returncode == 0, first.stderr
    assert [post.json()["appRoleId"] for post in graph.posts] == [
        graph.directory.application_role_id(role) for role in roles
    ]
    assert [line.split(" granted")[0] for line in first.stdout.splitlines()] == roles
    assert check.returncode == 0, check.stderr
    assert "Nothing is missing" in check.stdout
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("is already granted") == len(roles)
    assert len(graph.posts) == len(roles)  # neither the check nor the second run wrote
    assert len(graph.directory.assignments) == len(roles)


@needs_bash
@pytest.mark.parametrize(
    ("granted", "options", "missing"),
    [
        ([REPORTS], "", [AUDIT_LOG]),
        ([REPORTS], "--report-source v1", [AUDIT_LOG]),
        ([REPORTS, AUDIT_LOG], "--enforcement", [POLICY]),
        ([], "--report-source v1 --enforcement", [AUDIT_LOG, POLICY]),
        ([POLICY], "--report-source beta --enforcement", [REPORTS]),
    ],
)
def test_check_names_what_the_configuration_still_lacks_and_grants_nothing(
    graph, az, granted, options, missing
) -> None:
    for role in granted:
        graph.directory.assign(PRINCIPAL, role)

    result = grant(graph, az, "--principal-id", PRINCIPAL, "--check", *options.split())

    assert result.returncode == NOT_GRANTED, result.stderr
    for role in missing:
        assert f"{role} is NOT granted to {PRINCIPAL}" in result.stdout
    assert result.stdout.count("NOT granted") == len(missing)
    configuration = options if "--report-source" in options else f"--report-source auto {options}"
    assert (
        f"Missing for {configuration.strip()}: {' '.join(missing)}. Run this script without"
        " --check, with the same options, to grant it."
    ) in result.stdout
    assert graph.posts == []


@needs_bash
def test_check_says_nothing_is_missing_when_only_the_configured_source_s_role_is_there(
    graph, az
) -> None:
    graph.directory.assign(PRINCIPAL, REPORTS)

    result = grant(graph, az, "--principal-id", PRINCIPAL, "--check", "--report-source", "beta")

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        f"{REPORTS} is granted to {PRINCIPAL}.",
        "Nothing is missing for --report-source beta.",
    ]


@needs_bash
@pytest.mark.parametrize("check", [[], ["--check"]], ids=["grant", "check"])
def test_a_role_the_configuration_does_not_use_is_named_with_its_removal_and_kept(
    graph, az, check
) -> None:
    graph.directory.assign(PRINCIPAL, REPORTS)
    audit_log = graph.directory.assign(PRINCIPAL, AUDIT_LOG)  # granted by an earlier version

    result = grant(graph, az, "--principal-id", PRINCIPAL, "--report-source", "beta", *check)

    assert result.returncode == 0, result.stderr
    assert (
        f"{AUDIT_LOG} is granted to {PRINCIPAL}, but --report-source beta does not need it"
        in result.stdout
    )
    assert (
        "az rest --method DELETE --url "
        f"{graph.url}/v1.0/servicePrincipals/{PRINCIPAL}/appRoleAssignments/{audit_log['id']}"
    ) in result.stdout
    assert POLICY not in result.stdout  # not granted, not needed: not mentioned
    assert [r.method for r in graph.requests] == ["GET", "GET"]  # nothing written or removed
    assert len(graph.directory.assignments) == 2


@needs_bash
def test_a_graph_without_a_role_the_configuration_does_not_use_is_no_obstacle(graph, az) -> None:
    audit_log = graph.directory.application_role_id(AUDIT_LOG)
    graph.directory.app_roles = [r for r in graph.directory.app_roles if r["id"] != audit_log]

    result = grant(graph, az, "--principal-id", PRINCIPAL, "--report-source", "beta")

    assert result.returncode == 0, result.stderr
    [post] = graph.posts
    assert post.json()["appRoleId"] == graph.directory.application_role_id(REPORTS)


@needs_bash
@pytest.mark.parametrize(
    "args", [["--report-source", "both"], ["--report-source", "V1"], ["--report-source="],
             ["--report-source"]]
)  # fmt: skip
def test_an_unknown_report_source_is_refused_with_usage_before_any_request(graph, az, args) -> None:
    result = grant(graph, az, "--principal-id", PRINCIPAL, *args)

    assert result.returncode == BAD_ARGUMENTS
    assert "--report-source" in result.stderr and "usage:" in result.stderr
    assert az.calls() == []


# The double itself: it must print what real az prints, or the script is tested against a lie.


def test_the_az_double_prints_tsv_as_knack_does() -> None:
    assert az_cli.tsv(["a", None, True, 3]) == "a\nNone\ntrue\n3\n"  # a null in a list: None
    assert az_cli.tsv([["a", "b"], ["c", None]]) == "a\tb\nc\tNone\n"
    assert az_cli.tsv("id") == "id\n"
    assert az_cli.tsv({"b": 2, "a": 1}) == "1\t2\n"  # a response's dict: sorted by key
    assert az_cli.tsv(OrderedDict(b=2, a=1)) == "2\t1\n"  # a multi-select hash: query order
    assert az_cli.tsv([["x", [1, 2], {"k": "v"}]]) == "x\t2\t\n"


def test_the_az_double_prints_nothing_for_a_null_result(graph, capsys) -> None:
    code = az_cli.main(
        ["rest", "--url", f"{graph.url}/v1.0/servicePrincipals", "--resource", graph.url,
         "--query", "value[0].id", "-o", "tsv"]
    )  # fmt: skip

    assert code == 0
    assert capsys.readouterr().out == ""


def test_the_az_double_reports_http_errors_as_az_does(graph, capsys) -> None:
    graph.deny = {"GET"}

    code = az_cli.main(["rest", "--url", f"{graph.url}/v1.0/servicePrincipals", "--resource", "x"])

    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith('ERROR: Forbidden({"error": {"code": "Authorization_RequestDenied"')


def test_the_az_double_sends_no_token_without_a_resource(graph) -> None:
    assert az_cli.main(["rest", "--url", f"{graph.url}/v1.0/servicePrincipals"]) == 1
    assert "authorization" not in graph.requests[0].headers


def test_the_az_double_refuses_a_non_loopback_url_before_sending(capsys) -> None:
    code = az_cli.main(["rest", "--url", "https://graph.microsoft.com/v1.0/me", "--resource", "x"])

    assert code == 2
    assert "refuses non-loopback host" in capsys.readouterr().err
