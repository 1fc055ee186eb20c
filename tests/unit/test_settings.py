"""Settings: validated once, every problem named at once, secrets never shown (pure)."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

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
    assert dict(settings.thresholds) == {
        "mfaRegistered": Fraction(95, 100),
        "capable": Fraction(9, 10),
    }
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
        ("ENFORCEMENT_MAX_EXCLUSIONS", "-1"),
        ("ENFORCEMENT_MAX_EXCLUSIONS", "2.5"),
        ("CHECK_ENFORCEMENT", "maybe"),
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


def test_every_invalid_setting_is_named_in_one_error() -> None:
    env = {
        **AZURITE,
        "GRAPH_ENDPOINT": "ftp://graph.microsoft.com",
        "THRESHOLDS": "capable=2",
        "TEAMS_WEBHOOK_URL": "not a url",
        "ALERT_REPEAT_HOURS": "soon",
        "DROP_ALERT_POINTS": "-5",
        "SNAPSHOT_TABLE": "x",
        "ALERT_TABLE": "Alert-State",
    }

    with pytest.raises(ConfigurationError) as error:
        Settings.from_env(env)

    named = [p.split(":")[0] for p in error.value.problems]
    assert named == [
        "GRAPH_ENDPOINT",
        "THRESHOLDS",
        "TEAMS_WEBHOOK_URL",
        "ALERT_REPEAT_HOURS",
        "DROP_ALERT_POINTS",
        "SNAPSHOT_TABLE",
        "ALERT_TABLE",
    ]
    assert str(error.value).startswith("invalid settings: GRAPH_ENDPOINT: ")
    assert all(name in str(error.value) for name in named)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:10000", "http://127.0.0.1:10000"),
        ("http://127.0.0.2:8080/", "http://127.0.0.2:8080"),
        ("http://[::1]:8080", "http://[::1]:8080"),
        ("http://LOCALHOST:8080", "http://LOCALHOST:8080"),
        ("https://graph.microsoft.us", "https://graph.microsoft.us"),
    ],
)
def test_the_graph_endpoint_may_be_plain_http_only_on_loopback(url: str, expected: str) -> None:
    assert Settings.from_env({**AZURITE, "GRAPH_ENDPOINT": url}).graph_endpoint == expected


@pytest.mark.parametrize(
    "host", ["localhost.example.com", "127.0.0.1.nip.io", "0.0.0.0", "10.0.0.1", "[::]"]
)
@pytest.mark.parametrize("name", ["GRAPH_ENDPOINT", "TEAMS_WEBHOOK_URL"])
def test_hosts_that_only_look_local_need_https(name: str, host: str) -> None:
    [problem] = problems({**AZURITE, name: f"http://{host}:8080"})

    assert problem.startswith(f"{name}: https is required")


@pytest.mark.parametrize("url", ["graph.microsoft.com", "ftp://graph.microsoft.com", "https://"])
@pytest.mark.parametrize("name", ["GRAPH_ENDPOINT", "TEAMS_WEBHOOK_URL"])
def test_urls_that_are_not_absolute_http_are_refused(name: str, url: str) -> None:
    assert problems({**AZURITE, name: url}) == [f"{name}: not an absolute https:// URL"]


def test_a_loopback_webhook_is_accepted_and_keeps_its_query_private() -> None:
    url = "http://127.0.0.1:7071/invoke?api-version=1&sig=L0CAL-S3CR3T"

    webhook = Settings.from_env({**AZURITE, "TEAMS_WEBHOOK_URL": url}).webhook

    assert webhook is not None
    assert webhook.value == url
    assert webhook.secret_part == "api-version=1&sig=L0CAL-S3CR3T"
    assert str(webhook) == webhook.redacted == "http://127.0.0.1:7071/invoke?[redacted]"
    assert "L0CAL-S3CR3T" not in repr(webhook)
    assert "L0CAL-S3CR3T" not in f"{webhook} {webhook!r}"


def test_a_webhook_without_a_query_has_nothing_to_redact() -> None:
    webhook = Settings.from_env({**AZURITE, "TEAMS_WEBHOOK_URL": "https://h.example/hook"}).webhook

    assert webhook is not None
    assert (str(webhook), webhook.secret_part) == ("https://h.example/hook", "")


def test_the_signature_does_not_show_when_other_settings_are_invalid() -> None:
    with pytest.raises(ConfigurationError) as error:
        Settings.from_env({"TEAMS_WEBHOOK_URL": WEBHOOK, "ALERT_REPEAT_HOURS": "x"})

    assert "S3CR3T" not in str(error.value)
    assert "S3CR3T" not in repr(error.value)


def test_blank_settings_count_as_unset() -> None:
    settings = Settings.from_env(
        {**AZURITE, "AZURE_CLIENT_ID": "  ", "TEAMS_WEBHOOK_URL": "", "ALERT_REPEAT_HOURS": " "}
    )

    assert (settings.azure_client_id, settings.webhook) == (None, None)
    assert settings.alert_repeat == timedelta(hours=24)


def test_the_client_id_is_passed_through_trimmed() -> None:
    client_id = "0a1b2c3d-4e5f-6789-abcd-ef0123456789"

    settings = Settings.from_env({**AZURITE, "AZURE_CLIENT_ID": f" {client_id}\n"})

    assert settings.azure_client_id == client_id


def test_thresholds_given_replace_the_defaults() -> None:
    settings = Settings.from_env({**AZURITE, "THRESHOLDS": "registered=80%"})

    assert dict(settings.thresholds) == {"registered": Fraction(8, 10)}


@pytest.mark.parametrize(
    ("value", "hours"), [("1", 1.0), ("168", 168.0), ("0.25", 0.25), ("1e3", 1000.0)]
)
def test_alert_repeat_hours_become_the_interval(value: str, hours: float) -> None:
    settings = Settings.from_env({**AZURITE, "ALERT_REPEAT_HOURS": value})

    assert settings.alert_repeat == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("0", "must be a positive number of hours, got '0'"),
        ("-24", "must be a positive number of hours, got '-24'"),
        ("1e-320", "must be a positive number of hours, got '1e-320'"),
        ("1e20", "'1e20' hours is too long an interval"),
        ("1e308", "'1e308' hours is too long an interval"),
        ("-inf", "'-inf' is not a finite number"),
        ("24h", "'24h' is not a number"),
    ],
)
def test_alert_repeat_hours_that_are_no_usable_interval_are_refused(value: str, says: str) -> None:
    assert problems({**AZURITE, "ALERT_REPEAT_HOURS": value}) == [f"ALERT_REPEAT_HOURS: {says}"]


@pytest.mark.parametrize(("value", "points"), [("100", 100.0), ("0.5", 0.5), ("5", 5.0)])
def test_drop_alert_points_between_zero_and_one_hundred_are_accepted(
    value: str, points: float
) -> None:
    assert Settings.from_env({**AZURITE, "DROP_ALERT_POINTS": value}).drop_alert_points == points


@pytest.mark.parametrize("value", ["100.5", "-5", "0", "inf", "five", "5%"])
def test_drop_alert_points_outside_zero_to_one_hundred_are_refused(value: str) -> None:
    [problem] = problems({**AZURITE, "DROP_ALERT_POINTS": value})

    assert problem.startswith("DROP_ALERT_POINTS: ")
    assert repr(value) in problem


def test_a_plain_http_table_endpoint_is_refused_unless_loopback() -> None:
    remote = {"AzureWebJobsStorage__tableServiceUri": "http://acct.table.core.windows.net"}
    local = {"AzureWebJobsStorage__tableServiceUri": "http://127.0.0.1:10002/devstoreaccount1"}

    assert problems(remote)[0].startswith("AzureWebJobsStorage__tableServiceUri: https is")
    assert (
        Settings.from_env(local).storage.table_endpoint == "http://127.0.0.1:10002/devstoreaccount1"
    )


def test_a_connection_string_wins_over_identity_based_storage() -> None:
    settings = Settings.from_env({**AZURITE, "AzureWebJobsStorage__accountName": "other"})

    assert settings.storage.connection_string == "UseDevelopmentStorage=true"
    assert settings.storage.table_endpoint is None
    assert settings.storage.described == "the AzureWebJobsStorage connection string"


settings_names = st.sampled_from(
    ["GRAPH_ENDPOINT", "THRESHOLDS", "TEAMS_WEBHOOK_URL", "ALERT_REPEAT_HOURS",
     "DROP_ALERT_POINTS", "SNAPSHOT_TABLE", "ALERT_TABLE", "AZURE_CLIENT_ID",
     "AzureWebJobsStorage", "AzureWebJobsStorage__tableServiceUri",
     "AzureWebJobsStorage__accountName"]
)  # fmt: skip
settings_values = st.text(max_size=40) | st.sampled_from(
    ["1e20", "1e308", "1e-320", "nan", "-0", "http://[::1", "https://h:99999999/", "http://::1"]
)


@hypothesis_settings(max_examples=200, deadline=None)
@given(st.dictionaries(settings_names, settings_values, max_size=6))
def test_any_environment_gives_settings_or_a_configuration_error(env: dict[str, str]) -> None:
    try:
        settings = Settings.from_env(env)
    except ConfigurationError as error:
        assert error.problems
    else:
        assert settings.alert_repeat > timedelta(0)
        assert all(0 <= ratio <= 1 for ratio in settings.thresholds.values())


def test_report_source_and_scope_settings_are_read_and_checked() -> None:
    settings = Settings.from_env(
        {
            **AZURITE,
            "REPORT_SOURCE": "V1",
            "INCLUDE_GUESTS": "false",
            "EXCLUDE_USERS": " breakglass1@contoso.com , 0b1c2d3e-0000-4000-8000-000000000001 ,",
            "ALERT_NAME_ADMINS": "yes",
            "THRESHOLDS": "mfaRegistered=95%,adminsWithoutMfa<=0",
        }
    )

    assert settings.report_source == "v1" and settings.include_guests is False
    assert settings.exclude_users == (
        "breakglass1@contoso.com",
        "0b1c2d3e-0000-4000-8000-000000000001",
    )
    assert settings.alert_name_admins is True
    assert dict(settings.maximums) == {"adminsWithoutMfa": 0}
    assert Settings.from_env(AZURITE).report_source == "auto"


def test_bad_source_and_scope_settings_are_named() -> None:
    found = problems(
        {**AZURITE, "REPORT_SOURCE": "v2", "INCLUDE_GUESTS": "maybe", "EXCLUDE_USERS": "a b"}
    )

    assert any(p.startswith("REPORT_SOURCE: 'v2' is not one of auto, beta, v1") for p in found)
    assert any(p.startswith("INCLUDE_GUESTS: 'maybe' is not true or false") for p in found)
    assert any(p.startswith("EXCLUDE_USERS: 'a b' is not an object id") for p in found)


def test_the_digest_runs_mondays_at_eight_unless_set_and_empty_turns_it_off() -> None:
    assert Settings.from_env(AZURITE).digest_schedule == "0 0 8 * * 1"
    assert Settings.from_env({**AZURITE, "DIGEST_SCHEDULE": "0 30 7 * * Fri"}).digest_schedule == (
        "0 30 7 * * Fri"
    )
    assert Settings.from_env({**AZURITE, "DIGEST_SCHEDULE": ""}).digest_schedule is None
    assert Settings.from_env({**AZURITE, "DIGEST_SCHEDULE": "  "}).digest_schedule is None


def test_an_impossible_digest_schedule_is_named_with_its_field() -> None:
    found = problems({**AZURITE, "DIGEST_SCHEDULE": "0 0 8 * * 9"})

    assert found == ["DIGEST_SCHEDULE: '0 0 8 * * 9': day of the week 9 is outside 0-6"]


def test_card_version_is_1_4_unless_1_5_is_chosen() -> None:
    assert Settings.from_env(AZURITE).card_version == "1.4"
    assert Settings.from_env({**AZURITE, "CARD_VERSION": "1.5"}).card_version == "1.5"
    assert problems({**AZURITE, "CARD_VERSION": "1.6"}) == ["CARD_VERSION: '1.6' is not 1.4 or 1.5"]


@pytest.mark.parametrize(
    "marker",
    ["WEBSITE_INSTANCE_ID", "WEBSITE_SITE_NAME", "WEBSITE_SKU", "LEGION_SERVICE_HOST"],
)
def test_on_every_azure_plan_no_webhook_is_a_problem_unless_logging_is_chosen(
    marker: str,
) -> None:
    # Linux and Flex Consumption set no WEBSITE_INSTANCE_ID: each plan's own marker counts.
    found = problems({**AZURE_ENV, marker: "x"})

    assert any(p.startswith("TEAMS_WEBHOOK_URL is not set") for p in found)
    assert Settings.from_env({**AZURE_ENV, marker: "x", "ALERTS_TO_LOG_ONLY": "true"})


def test_a_container_is_not_taken_for_azure() -> None:
    assert Settings.from_env({**AZURE_ENV, "CONTAINER_NAME": "devcontainer"}).webhook is None


AZURE_ENV = {"AzureWebJobsStorage": "UseDevelopmentStorage=true"}


def test_log_http_requests_is_off_unless_set_and_a_bad_value_is_named() -> None:
    assert Settings.from_env(AZURITE).log_http_requests is False
    assert Settings.from_env({**AZURITE, "LOG_HTTP_REQUESTS": "true"}).log_http_requests is True

    [problem] = problems({**AZURITE, "LOG_HTTP_REQUESTS": "verbose"})
    assert problem.startswith("LOG_HTTP_REQUESTS: ")


@pytest.mark.parametrize("alert_table", ["Coverage", "coverage", "COVERAGE"])
def test_one_table_for_snapshots_and_alert_states_is_refused_naming_both(alert_table: str) -> None:
    # The check would delete the snapshot history as "cleared" alert states. Table names are
    # case-insensitive: learn.microsoft.com/rest/api/storageservices/
    # understanding-the-table-service-data-model#table-names
    (problem,) = problems({**AZURITE, "SNAPSHOT_TABLE": "Coverage", "ALERT_TABLE": alert_table})

    assert "SNAPSHOT_TABLE" in problem and "ALERT_TABLE" in problem


def test_enforcement_is_off_by_default_and_allows_two_break_glass_exclusions() -> None:
    settings = Settings.from_env(AZURITE)
    assert (settings.check_enforcement, settings.enforcement_max_exclusions) == (False, 2)
    chosen = Settings.from_env(
        {**AZURITE, "CHECK_ENFORCEMENT": "true", "ENFORCEMENT_MAX_EXCLUSIONS": "0"}
    )
    assert (chosen.check_enforcement, chosen.enforcement_max_exclusions) == (True, 0)
