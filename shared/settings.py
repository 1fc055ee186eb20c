"""The app's settings: read once from a mapping (`os.environ` in Azure), validated all at once.

Every problem is collected and reported together, naming the setting, so a misconfigured app
fails its first run with one readable error rather than one problem per deployment.

Two problems are specific to Azure and would otherwise leave the monitor quiet: a Key Vault
reference App Service could not resolve stays in the setting as its literal text
(`@Microsoft.KeyVault(...)`), and an app running in Azure without TEAMS_WEBHOOK_URL would only
log its alerts, where nobody reads them. Both are reported as what they are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from fractions import Fraction
from typing import Any

from shared import setting_values as values
from shared.core.coverage import Limits, parse_limits
from shared.errors import ConfigurationError
from shared.schedule import check_ncrontab
from shared.setting_values import StorageSettings, WebhookUrl

DEFAULT_GRAPH_ENDPOINT = "https://graph.microsoft.com"
DEFAULT_THRESHOLDS = "mfaRegistered=95%,capable=90%"
DEFAULT_SNAPSHOT_TABLE = "RegistrationSnapshots"
DEFAULT_ALERT_TABLE = "AlertState"
DEFAULT_TENANT_TABLE = "Tenants"
DEFAULT_ALERT_REPEAT_HOURS = 24.0
DEFAULT_DIGEST_SCHEDULE = "0 0 8 * * 1"  # Mondays 08:00 UTC
# Excluded principals an enforcing policy may have: two break-glass accounts, as Microsoft
# advises (https://learn.microsoft.com/entra/identity/role-based-access-control/security-emergency-access).
DEFAULT_ENFORCEMENT_MAX_EXCLUSIONS = 2
# Adaptive Card 1.4 renders in every Teams client; 1.5 adds a chart that cards posted by
# Workflows do not show everywhere (they fall back to its text).
CARD_VERSIONS = ("1.4", "1.5")

# Every setting the app itself reads (the Functions host also reads FETCH_SCHEDULE and
# DIGEST_SCHEDULE, through FetchReport/ and WeeklyDigest/function.json). The README, the example
# settings and infra/ are checked against it.
SETTING_NAMES = (
    "AzureWebJobsStorage",
    "AzureWebJobsStorage__accountName",
    "AzureWebJobsStorage__tableServiceUri",
    "AzureWebJobsStorage__clientId",
    "GRAPH_ENDPOINT",
    "THRESHOLDS",
    "TEAMS_WEBHOOK_URL",
    "FETCH_SCHEDULE",
    "AZURE_CLIENT_ID",
    "ALERT_REPEAT_HOURS",
    "DROP_ALERT_POINTS",
    "SNAPSHOT_TABLE",
    "ALERT_TABLE",
    "ALERTS_TO_LOG_ONLY",
    "REPORT_SOURCE",
    "INCLUDE_GUESTS",
    "EXCLUDE_USERS",
    "ALERT_NAME_ADMINS",
    "DIGEST_SCHEDULE",
    "CARD_VERSION",
    "LOG_HTTP_REQUESTS",
    "TENANTS",
    "MULTI_TENANT_APP_ID",
    "TENANT_TABLE",
    "MAX_INSTANCE_COUNT",
    "CHECK_ENFORCEMENT",
    "ENFORCEMENT_MAX_EXCLUSIONS",
    "KEY_VAULT_URL",
)
# Which report to read: the beta aggregate, v1.0 userRegistrationDetails, or beta until it is
# gone and then v1.0 (shared.usecases.fetching).
REPORT_SOURCES = ("auto", "beta", "v1")

# What the platform sets on instances in Azure and Core Tools does not: App Service (and
# Windows Consumption) set WEBSITE_INSTANCE_ID, but Linux and Flex Consumption, which this
# template deploys, do not; every plan names its site, owner and SKU (WEBSITE_SITE_NAME,
# WEBSITE_OWNER_NAME, WEBSITE_SKU), and Flex's instances carry LEGION_SERVICE_HOST.
# CONTAINER_NAME, which the host also reads, is left out: any container may set it.
AZURE_INSTANCE_SETTINGS = (
    "WEBSITE_INSTANCE_ID",
    "WEBSITE_SITE_NAME",
    "WEBSITE_OWNER_NAME",
    "WEBSITE_SKU",
    "WEBSITE_PODNAME",
    "LEGION_SERVICE_HOST",
)
KEY_VAULT_REFERENCE = "@Microsoft.KeyVault("


@dataclass(frozen=True)
class Settings:
    storage: StorageSettings
    graph_endpoint: str = DEFAULT_GRAPH_ENDPOINT
    thresholds: Mapping[str, Fraction] = field(
        default_factory=lambda: parse_limits(DEFAULT_THRESHOLDS).minimums
    )
    maximums: Mapping[str, int] = field(default_factory=dict)  # `status<=users`
    webhook: WebhookUrl | None = None
    azure_client_id: str | None = None
    alert_repeat: timedelta = timedelta(hours=DEFAULT_ALERT_REPEAT_HOURS)
    drop_alert_points: Fraction | None = None
    snapshot_table: str = DEFAULT_SNAPSHOT_TABLE
    alert_table: str = DEFAULT_ALERT_TABLE
    fetch_schedule: str | None = None  # read by the host; checked here so errors name it
    alerts_to_log_only: bool = False
    report_source: str = "auto"
    include_guests: bool = True
    exclude_users: tuple[str, ...] = ()  # object ids or UPNs, left out of every v1 metric
    alert_name_admins: bool = False
    # When WeeklyDigest runs (read by the host); None when set empty: no digest.
    digest_schedule: str | None = DEFAULT_DIGEST_SCHEDULE
    card_version: str = CARD_VERSIONS[0]
    # The SDKs' per-request HTTP logging at the worker's level, for troubleshooting only.
    log_http_requests: bool = False
    # Many tenants (shared/tenants): the customer tenants, the multi-tenant app whose federated
    # credential is the managed identity, the per-tenant overrides' table, and how many
    # instances may fetch at once (the cross-tenant Graph budget is shared among them).
    tenants: tuple[str, ...] = ()
    multi_tenant_app_id: str | None = None
    tenant_table: str = DEFAULT_TENANT_TABLE
    max_instance_count: int = 1
    # The vault holding tenants' own webhooks (their rows name a secret: shared/tenants/webhooks).
    key_vault_url: str | None = None
    # Read Conditional Access and security defaults on each fetch (needs Policy.Read.All).
    check_enforcement: bool = False
    enforcement_max_exclusions: int = DEFAULT_ENFORCEMENT_MAX_EXCLUSIONS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Build settings from `env`; raise ConfigurationError listing every problem."""
        problems: list[str] = []

        unresolved: set[str] = set()

        def text(name: str) -> str | None:
            value = env.get(name, "").strip()
            if value.startswith(KEY_VAULT_REFERENCE):
                if name not in unresolved:
                    unresolved.add(name)
                    problems.append(values.unresolved_reference(name, value))
                return None
            return value or None

        def checked(name: str, parse: Callable[[str], Any], default: Any) -> Any:
            raw = text(name)
            if raw is None:
                return default
            try:
                return parse(raw)
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
                return default

        storage = values.storage(text, problems)
        graph_endpoint = checked("GRAPH_ENDPOINT", values.endpoint, DEFAULT_GRAPH_ENDPOINT)
        limits: Limits | None = checked("THRESHOLDS", parse_limits, None)
        webhook = checked("TEAMS_WEBHOOK_URL", values.webhook, None)
        repeat = checked(
            "ALERT_REPEAT_HOURS", values.hours, timedelta(hours=DEFAULT_ALERT_REPEAT_HOURS)
        )
        drop_points = checked("DROP_ALERT_POINTS", values.points, None)
        schedule = checked("FETCH_SCHEDULE", check_ncrontab, None)
        log_only = checked("ALERTS_TO_LOG_ONLY", values.flag, False)
        report_source = checked("REPORT_SOURCE", _source, "auto")
        include_guests = checked("INCLUDE_GUESTS", values.flag, True)
        exclude_users = checked("EXCLUDE_USERS", values.users, ())
        name_admins = checked("ALERT_NAME_ADMINS", values.flag, False)
        # Unset: the default. Set but empty: the digest is turned off.
        digest_default = DEFAULT_DIGEST_SCHEDULE if "DIGEST_SCHEDULE" not in env else None
        digest_schedule = checked("DIGEST_SCHEDULE", check_ncrontab, digest_default)
        card_version = checked("CARD_VERSION", _card_version, CARD_VERSIONS[0])
        log_http_requests = checked("LOG_HTTP_REQUESTS", values.flag, False)
        tenants = checked("TENANTS", values.guids, ())
        multi_tenant_app_id = checked("MULTI_TENANT_APP_ID", values.guid, None)
        if tenants and multi_tenant_app_id is None and text("MULTI_TENANT_APP_ID") is None:
            problems.append(
                "MULTI_TENANT_APP_ID is not set, and TENANTS needs it: the client id of the "
                "multi-tenant app registration whose federated credential is this app's "
                "managed identity (README: Many tenants)"
            )
        max_instances = checked("MAX_INSTANCE_COUNT", values.count, 1)
        key_vault_url = checked("KEY_VAULT_URL", values.endpoint, None)
        check_enforcement = checked("CHECK_ENFORCEMENT", values.flag, False)
        max_exclusions = checked(
            "ENFORCEMENT_MAX_EXCLUSIONS", values.whole_number, DEFAULT_ENFORCEMENT_MAX_EXCLUSIONS
        )
        if limits is not None:
            problems += values.population_problems(limits, report_source, include_guests)
        in_azure = any(text(name) is not None for name in AZURE_INSTANCE_SETTINGS)
        if in_azure and not log_only and env.get("TEAMS_WEBHOOK_URL", "").strip() == "":
            problems.append(
                "TEAMS_WEBHOOK_URL is not set, and in Azure alerts that are only logged reach "
                "nobody: set it to the Teams Workflows webhook (infra/main.bicep keeps it in "
                "Key Vault), or set ALERTS_TO_LOG_ONLY=true to log alerts on purpose"
            )
        if webhook is not None and log_only:
            problems.append(
                "ALERTS_TO_LOG_ONLY is true while TEAMS_WEBHOOK_URL is set: choose one (remove "
                "ALERTS_TO_LOG_ONLY to post alerts to Teams)"
            )
        tables = {
            name: checked(name, values.table_name, default)
            for name, default in (
                ("SNAPSHOT_TABLE", DEFAULT_SNAPSHOT_TABLE),
                ("ALERT_TABLE", DEFAULT_ALERT_TABLE),
                ("TENANT_TABLE", DEFAULT_TENANT_TABLE),
            )
        }
        if tables["TENANT_TABLE"].lower() in (
            tables["SNAPSHOT_TABLE"].lower(),
            tables["ALERT_TABLE"].lower(),
        ):
            problems.append(
                f"TENANT_TABLE names the table of snapshots or alert states "
                f"({tables['TENANT_TABLE']}): give the tenants' overrides a table of their own"
            )
        if tables["SNAPSHOT_TABLE"].lower() == tables["ALERT_TABLE"].lower():
            # Table names are case-insensitive: one table for both would have the check delete
            # the snapshot history as "cleared" alert states.
            problems.append(
                f"SNAPSHOT_TABLE and ALERT_TABLE name the same table ({tables['ALERT_TABLE']}): "
                "the app needs two tables, give them distinct names"
            )
        if problems or storage is None:
            raise ConfigurationError(problems)
        return cls(
            storage=storage,
            graph_endpoint=graph_endpoint,
            thresholds=(limits or parse_limits(DEFAULT_THRESHOLDS)).minimums,
            maximums=limits.maximums if limits else {},
            webhook=webhook,
            azure_client_id=text("AZURE_CLIENT_ID"),
            alert_repeat=repeat,
            drop_alert_points=drop_points,
            snapshot_table=tables["SNAPSHOT_TABLE"],
            alert_table=tables["ALERT_TABLE"],
            fetch_schedule=schedule,
            alerts_to_log_only=log_only,
            report_source=report_source,
            include_guests=include_guests,
            exclude_users=exclude_users,
            alert_name_admins=name_admins,
            digest_schedule=digest_schedule,
            card_version=card_version,
            log_http_requests=log_http_requests,
            tenants=tenants,
            multi_tenant_app_id=multi_tenant_app_id,
            tenant_table=tables["TENANT_TABLE"],
            max_instance_count=max_instances,
            key_vault_url=key_vault_url,
            check_enforcement=check_enforcement,
            enforcement_max_exclusions=max_exclusions,
        )


def webhook_from_env(env: Mapping[str, str]) -> WebhookUrl | None:
    """TEAMS_WEBHOOK_URL alone, if it is set and valid (None otherwise): what can still say
    that the other settings are invalid."""
    raw = env.get("TEAMS_WEBHOOK_URL", "").strip()
    if not raw or raw.startswith(KEY_VAULT_REFERENCE):
        return None
    try:
        return values.webhook(raw)
    except ValueError:
        return None


def _source(raw: str) -> str:
    if raw.lower() not in REPORT_SOURCES:
        raise ValueError(f"{raw!r} is not one of {', '.join(REPORT_SOURCES)}")
    return raw.lower()


def _card_version(raw: str) -> str:
    if raw not in CARD_VERSIONS:
        raise ValueError(f"{raw!r} is not {' or '.join(CARD_VERSIONS)}")
    return raw
