"""infra/grant-reports-read-all.sh against a loopback Graph directory, through an `az rest` double.

The script is run for real by bash; only `az` is a stand-in (standins/az_cli.py), because the
real CLI needs an Azure sign-in. Every request lands on the loopback directory, which checks
what a real Graph would: the bearer token, the body, duplicates.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from standins.functions_host import ROOT
from standins.graph_directory import GraphDirectoryStandIn

SCRIPT = ROOT / "infra" / "grant-reports-read-all.sh"
PRINCIPAL = "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b"
NOT_GRANTED = 3

pytestmark = pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")


@pytest.fixture
def graph() -> Iterator[GraphDirectoryStandIn]:
    with GraphDirectoryStandIn() as server:
        server.directory.principals.add(PRINCIPAL)
        yield server


@pytest.fixture
def az_on_path(tmp_path: Path) -> Path:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    az = bin_dir / "az"
    az.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m standins.az_cli "$@"\n')
    az.chmod(0o755)
    return bin_dir


def grant(
    graph: GraphDirectoryStandIn | str, az_on_path: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": f"{az_on_path}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": str(ROOT),
        "GRAPH_ENDPOINT": graph if isinstance(graph, str) else graph.url,
    }
    return subprocess.run(
        ["bash", str(SCRIPT), *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_the_first_run_assigns_reports_read_all_looked_up_by_name(graph, az_on_path) -> None:
    result = grant(graph, az_on_path, "--principal-id", PRINCIPAL)

    assert result.returncode == 0, result.stderr
    assert "Reports.Read.All granted" in result.stdout
    [post] = graph.posts
    assert post.json() == {
        "principalId": PRINCIPAL,
        "resourceId": graph.directory.graph_sp_id,
        "appRoleId": graph.directory.reports_read_all_id,  # the Application role, fresh per run
    }
    assert post.headers["authorization"].startswith("Bearer ")


def test_a_second_run_changes_nothing(graph, az_on_path) -> None:
    grant(graph, az_on_path, "--principal-id", PRINCIPAL)

    again = grant(graph, az_on_path, "--principal-id", PRINCIPAL)

    assert again.returncode == 0, again.stderr
    assert "already in place" in again.stdout
    assert len(graph.posts) == 1
    assert len(graph.directory.assignments) == 1


def test_check_reports_both_states_and_never_writes(graph, az_on_path) -> None:
    before = grant(graph, az_on_path, "--principal-id", PRINCIPAL, "--check")
    grant(graph, az_on_path, "--principal-id", PRINCIPAL)
    after = grant(graph, az_on_path, "--check", "--principal-id", PRINCIPAL)

    assert before.returncode == NOT_GRANTED
    assert "NOT granted" in before.stdout
    assert after.returncode == 0
    assert "is granted" in after.stdout
    assert len(graph.posts) == 1  # the grant's, not the checks'


def test_another_graph_permission_does_not_count_as_the_grant(graph, az_on_path) -> None:
    other = next(r for r in graph.directory.app_roles if r["value"] == "User.Read.All")
    graph.directory.assignments.append(
        {
            "id": "existing",
            "principalId": PRINCIPAL,
            "resourceId": graph.directory.graph_sp_id,
            "appRoleId": other["id"],
        }
    )

    assert grant(graph, az_on_path, "--principal-id", PRINCIPAL, "--check").returncode == 3


def test_an_unknown_principal_is_explained_and_nothing_is_written(graph, az_on_path) -> None:
    unknown = "0b7e5d1c-0000-4000-8000-000000000000"

    result = grant(graph, az_on_path, "--principal-id", unknown)

    assert result.returncode == 1
    assert f"no service principal has object id {unknown}" in result.stderr
    assert "principal id" in result.stderr and "not its client id" in result.stderr
    assert graph.posts == []


def test_a_caller_without_the_role_is_told_which_role_it_needs(graph, az_on_path) -> None:
    graph.forbid = True

    result = grant(graph, az_on_path, "--principal-id", PRINCIPAL)

    assert result.returncode == 1
    assert "Privileged Role Administrator" in result.stderr
    assert graph.posts == []


@pytest.mark.parametrize("bad", ["not-a-guid", "6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b/../x", ""])
def test_a_principal_id_that_is_not_a_guid_is_refused_before_any_request(
    graph, az_on_path, bad
) -> None:
    result = grant(graph, az_on_path, "--principal-id", bad)

    assert result.returncode != 0
    assert graph.requests == []


def test_a_plain_http_graph_endpoint_is_refused(graph, az_on_path) -> None:
    result = grant("http://graph.microsoft.com", az_on_path, "--principal-id", PRINCIPAL)

    assert result.returncode == 1
    assert "must be https://" in result.stderr
    assert graph.requests == []


def test_a_graph_without_the_application_role_fails_clearly(graph, az_on_path) -> None:
    application_role = graph.directory.reports_read_all_id
    graph.directory.app_roles = [
        r for r in graph.directory.app_roles if r["id"] != application_role
    ]

    result = grant(graph, az_on_path, "--principal-id", PRINCIPAL)

    assert result.returncode == 1
    assert "no application role named Reports.Read.All" in result.stderr
    assert graph.posts == []
