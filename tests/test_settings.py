"""Settings: validated once, every problem named at once, secrets never shown (pure)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.errors import ConfigurationError
from shared.settings import Settings

AZURITE = {"AzureWebJobsStorage": "UseDevelopmentStorage=true"}
WEBHOOK = "https://prod-12.westeurope.logic.azure.com/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers&sv=1.0&sig=S3CR3T-signature"


def problems(env: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigurationError) as error:
        Settings.from_env(env)
    return error.value.problems


def test_defaults_need_only_storage() -> None:
    settings = Settings.from_env(AZURITE)

    assert settings.graph_endpoint == "https://graph.microsoft.com"
    assert dict(settings.thresholds) == {"mfaRegistered": 0.95, "capable": 0.90}
    assert settings.webhook is None
    assert settings.alert_repeat == timedelta(hours=24)
    assert settings.drop_alert_points is None
    assert (settings.snapshot_table, settings.alert_table) == (
        "RegistrationSnapshots",
        "AlertState",
    )


def test_identity_based_storage_uses_the_account_s_table_endpoint() -> None:
    settings = Settings.from_env(
        {"AzureWebJobsStorage__accountName": "entracov", "AzureWebJobsStorage__clientId": "c1"}
    )

    assert settings.storage.table_endpoint == "https://entracov.table.core.windows.net"
    assert settings.storage.client_id == "c1"
    assert settings.storage.connection_string is None


def test_a_user_assigned_identity_is_passed_through() -> None:
    assert Settings.from_env({**AZURITE, "AZURE_CLIENT_ID": "abc"}).azure_client_id == "abc"


def test_every_problem_is_reported_at_once_by_name() -> None:
    found = problems(
        {
            "GRAPH_ENDPOINT": "http://graph.microsoft.com",
            "THRESHOLDS": "mfaRegistered=95",
            "ALERT_REPEAT_HOURS": "0",
            "DROP_ALERT_POINTS": "150",
            "SNAPSHOT_TABLE": "no-dashes",
        }
    )

    named = [p.split(":")[0] for p in found]
    assert named == [
        "AzureWebJobsStorage is not set",
        "GRAPH_ENDPOINT",
        "THRESHOLDS",
        "ALERT_REPEAT_HOURS",
        "DROP_ALERT_POINTS",
        "SNAPSHOT_TABLE",
    ]


@pytest.mark.parametrize("name", ["GRAPH_ENDPOINT", "TEAMS_WEBHOOK_URL"])
def test_plain_http_is_refused_except_on_loopback(name: str) -> None:
    assert "https is required" in problems({**AZURITE, name: "http://example.com"})[0]
    for host in ("127.0.0.1:8080", "[::1]:8080", "localhost:8080"):
        Settings.from_env({**AZURITE, name: f"http://{host}"})


def test_the_graph_endpoint_is_the_service_root() -> None:
    assert "service root only" in problems({**AZURITE, "GRAPH_ENDPOINT": "https://g.com/beta"})[0]
    settings = Settings.from_env({**AZURITE, "GRAPH_ENDPOINT": "https://graph.microsoft.us/"})
    assert settings.graph_endpoint == "https://graph.microsoft.us"


def test_the_webhook_signature_never_shows() -> None:
    settings = Settings.from_env({**AZURITE, "TEAMS_WEBHOOK_URL": WEBHOOK})

    assert settings.webhook is not None
    shown = [str(settings.webhook), repr(settings.webhook), repr(settings)]
    assert all("S3CR3T" not in text for text in shown)
    assert str(settings.webhook).endswith("/invoke?[redacted]")


def test_an_invalid_webhook_is_refused_without_echoing_it() -> None:
    found = problems({**AZURITE, "TEAMS_WEBHOOK_URL": WEBHOOK.replace("https", "http")})

    assert found and "S3CR3T" not in " ".join(found)


def test_the_connection_string_key_never_shows() -> None:
    env = {"AzureWebJobsStorage": "DefaultEndpointsProtocol=https;AccountKey=K3Y==;"}

    assert "K3Y" not in repr(Settings.from_env(env))


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ALERT_REPEAT_HOURS", "inf"),
        ("ALERT_REPEAT_HOURS", "-1"),
        ("ALERT_REPEAT_HOURS", "daily"),
        ("DROP_ALERT_POINTS", "0"),
        ("DROP_ALERT_POINTS", "nan"),
        ("ALERT_TABLE", "ab"),
    ],
)
def test_out_of_range_numbers_and_names_are_refused(name: str, value: str) -> None:
    assert problems({**AZURITE, name: value})[0].startswith(f"{name}: ")


def test_fractional_repeat_hours_and_drop_points_are_accepted() -> None:
    settings = Settings.from_env(
        {**AZURITE, "ALERT_REPEAT_HOURS": "0.5", "DROP_ALERT_POINTS": "2.5"}
    )

    assert settings.alert_repeat == timedelta(minutes=30)
    assert settings.drop_alert_points == 2.5
