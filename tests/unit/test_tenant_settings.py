"""TENANTS and its companions, and the Graph stand-in's limits for many tenants (pure and
loopback: no worker)."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from shared.errors import ConfigurationError
from shared.settings import Settings
from standins.graph import REPORT_PATH, GraphStandIn
from standins.graph_tenants import Tenants

BASE = {"AzureWebJobsStorage": "UseDevelopmentStorage=true"}
APP = "0b7e4c2d-5a61-4f38-9d2e-8c1a3f5b7d90"
A, B = "2b9c7c55-3f7e-4d3b-9a41-0c6f1e2d3a4b", "8d4e6f10-1a2b-4c3d-8e9f-a0b1c2d3e4f5"


def test_tenants_are_guids_each_once_with_the_app_id() -> None:
    settings = Settings.from_env(
        {**BASE, "TENANTS": f" {A.upper()}, {B},{A} ", "MULTI_TENANT_APP_ID": APP}
    )

    assert settings.tenants == (A, B)
    assert settings.multi_tenant_app_id == APP


def test_without_tenants_nothing_changes() -> None:
    settings = Settings.from_env(BASE)

    assert settings.tenants == () and settings.multi_tenant_app_id is None
    assert settings.tenant_table == "Tenants" and settings.max_instance_count == 1


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"TENANTS": A}, "MULTI_TENANT_APP_ID is not set, and TENANTS needs it"),
        ({"TENANTS": "contoso.onmicrosoft.com", "MULTI_TENANT_APP_ID": APP}, "TENANTS: "),
        ({"TENANTS": A, "MULTI_TENANT_APP_ID": "my-app"}, "MULTI_TENANT_APP_ID: 'my-app'"),
        ({"TENANT_TABLE": "alertstate"}, "TENANT_TABLE names the table"),
        ({"MAX_INSTANCE_COUNT": "0"}, "MAX_INSTANCE_COUNT: must be at least 1"),
        ({"KEY_VAULT_URL": "http://kv.vault.azure.net"}, "KEY_VAULT_URL: https is required"),
    ],
)
def test_invalid_tenant_settings_are_refused_by_name(extra: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigurationError, match=problem):
        Settings.from_env({**BASE, **extra})


def _b64(claims: dict[str, str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()


def _token(tenant: str) -> str:
    return f"{_b64({'alg': 'none'})}.{_b64({'tid': tenant})}.sig"


def test_the_graph_stand_in_serves_each_tenant_its_report_under_graphs_limits() -> None:
    now = [0.0]
    tenants = Tenants(
        reports={A: b'{"value": "a"}', B: b'{"value": "b"}'}, across=7, clock=lambda: now[0]
    )
    with GraphStandIn(tenants=tenants) as graph:

        def get(tenant: str) -> httpx.Response:
            headers = {"Authorization": f"Bearer {_token(tenant)}"}
            return httpx.get(graph.url + REPORT_PATH, headers=headers)

        answers = [get(A) for _ in range(6)]
        assert [r.status_code for r in answers] == [200] * 5 + [429]  # 5 per 10 s per tenant
        assert float(answers[-1].headers["Retry-After"]) == pytest.approx(10.0)
        assert json.loads(answers[0].content) == {"value": "a"}
        assert [get(B).status_code for _ in range(3)] == [200, 200, 429]  # 7 across tenants
        now[0] = 10.0
        assert get(B).status_code == 200
    assert tenants.throttled == 2 and tenants.served == {A: 5, B: 3}
