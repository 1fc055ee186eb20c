"""The README's Deploy steps agree with the template, its parameters and the workflow.

tests/deployment/test_ci_workflow.py checks the template and the workflow themselves (settings,
security, the dead man's switch); this file checks that nothing the README tells users to type names
something that does not exist, and that the template sets nothing the code does not read.
"""

from __future__ import annotations

import json
import os
import re

from shared.settings import SETTING_NAMES
from standins.functions_host import ROOT
from tests.deployment.test_ci_workflow import BICEP as CODE  # without comments
from tests.deployment.test_ci_workflow import group, hours, resource_blocks

BICEP = (ROOT / "infra" / "main.bicep").read_text()
PARAMETERS = json.loads((ROOT / "infra" / "main.parameters.example.json").read_text())
WORKFLOW_TEXT = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
README = (ROOT / "README.md").read_text()
DEPLOY = README[README.index("## Deploy") : README.index("## Development")]


def bicep_settings() -> set[str]:
    return set(re.findall(r"\{ name: '(\w+)', value: ", BICEP)) | set(
        re.findall(r"^\s*name: '([A-Za-z_]+)'\n\s*value:", BICEP, re.M)
    )


def bicep_params() -> set[str]:
    return set(re.findall(r"^param (\w+) ", BICEP, re.M))


def bicep_string(name: str) -> str:
    """The value of `var name = '...'`, with `${other}` replaced by other's value (the
    template's queries are built from one `coverageTraces`)."""
    value = group(rf"(?m)^var {name} = '((?:[^'\\]|\\.)*)'$", CODE)
    return re.sub(r"\$\{(\w+)\}", lambda m: bicep_string(m.group(1)), value).replace("\\'", "'")


def test_the_template_sets_no_setting_the_code_does_not_know() -> None:
    platform = {
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
        "AzureWebJobsStorage__credential",
        "FUNCTIONS_EXTENSION_VERSION",
        "FUNCTIONS_WORKER_RUNTIME",
        "WEBSITE_RUN_FROM_PACKAGE",
        "WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID",
    }

    assert bicep_settings() - platform <= set(SETTING_NAMES)


def test_the_identity_gets_exactly_the_storage_and_vault_roles_the_readme_names() -> None:
    roles = dict(re.findall(r"^  (\w+): '([0-9a-f-]{36})'$", BICEP, re.M))

    assert roles == {
        "storageBlobDataOwner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
        "storageQueueDataContributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
        "storageTableDataContributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
        "keyVaultSecretsUser": "4633458b-17de-408a-b874-0445c86b69e6",
        "monitoringMetricsPublisher": "3913510d-42f4-4e42-8a64-420c390055eb",
    }
    for name in (
        "Storage Table Data Contributor",
        "Storage Queue Data Contributor",
        "Monitoring Metrics Publisher",
    ):
        assert name in README


def test_the_example_parameters_are_the_template_s_parameters_without_the_secret() -> None:
    given = set(PARAMETERS["parameters"])

    assert given <= bicep_params()
    assert "teamsWebhookUrl" not in given  # passed at deployment time, never written down
    assert bicep_params() - given <= {"location", "teamsWebhookUrl"}


def test_the_readme_uses_only_outputs_and_parameters_the_template_has() -> None:
    outputs = set(re.findall(r"^output (\w+) ", BICEP, re.M))
    used_outputs = set(re.findall(r"properties\.outputs\.(\w+)\.value", DEPLOY))
    used_params = set(re.findall(r"--parameters (\w+)=", DEPLOY))

    assert used_outputs and used_outputs <= outputs
    assert used_params and used_params <= bicep_params()


def test_the_readme_deploy_steps_name_every_script_that_exists() -> None:
    for script in set(re.findall(r"(infra/[\w.-]+\.(?:sh|ps1|bicep|json))", DEPLOY)):
        path = ROOT / script.replace("main.parameters.json", "main.parameters.example.json")
        assert path.exists(), script
    assert os.access(ROOT / "infra" / "grant-reports-read-all.sh", os.X_OK)


def test_the_readme_names_the_repository_variables_the_workflow_reads() -> None:
    variables = set(re.findall(r"vars\.(\w+)", WORKFLOW_TEXT))

    assert variables
    for name in variables:
        assert f"`{name}`" in DEPLOY, name


# ---- Coverage in Azure Monitor: telemetry auth, the coverage alert, the workbook ------------


def test_application_insights_takes_entra_authenticated_telemetry_only() -> None:
    (insights,) = resource_blocks(CODE, "Microsoft.Insights/components").values()
    (workspace,) = resource_blocks(CODE, "Microsoft.OperationalInsights/workspaces").values()

    assert re.search(r"^    DisableLocalAuth: true$", insights, re.M)
    assert "features: { disableLocalAuth: true }" in workspace
    assert "DisableLocalAuth: false" not in CODE and "disableLocalAuth: false" not in CODE


def test_the_app_sends_telemetry_with_its_own_identity() -> None:
    setting = group(r"\{ name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: (.*) \}", CODE)

    # Microsoft's documented values: system-assigned, or user-assigned with its client id.
    assert setting == (
        "useUserAssigned ? 'Authorization=AAD;ClientId=${userAssigned.clientId}' "
        ": 'Authorization=AAD'"
    )
    assert "var commonSettings = [" in CODE
    common = CODE[CODE.index("var commonSettings = [") : CODE.index("var appSettings =")]
    assert "APPLICATIONINSIGHTS_AUTHENTICATION_STRING" in common  # on both plans


def test_the_identity_may_publish_telemetry_to_application_insights_only() -> None:
    assignments = resource_blocks(CODE, "Microsoft.Authorization/roleAssignments")
    publishing = [b for b in assignments.values() if "roles.monitoringMetricsPublisher" in b]

    assert len(publishing) == 1
    (block,) = publishing
    assert "scope: insights\n" in block
    assert "name: guid(insights.id, identityKey, roles.monitoringMetricsPublisher)" in block
    assert "principalId: principalId" in block
    assert "principalType: 'ServicePrincipal'" in block


def test_the_coverage_alert_fires_per_metric_on_its_latest_check_to_the_action_group() -> None:
    rule = resource_blocks(CODE, "Microsoft.Insights/scheduledQueryRules")["coverageRule"]
    query = bicep_string("coverageAlertQuery")

    # On by default, a parameter to turn it off, and only with an action group to notify.
    assert re.search(r"^param coverageAlert bool = true$", CODE, re.M)
    assert "= if (coverageAlert && !empty(actionGroupResourceId)) {" in rule
    assert "actions: { actionGroups: [actionGroupResourceId] }" in rule
    assert "scopes: [insights.id]" in rule and "enabled: true" in rule
    assert "autoMitigate: true" in rule  # resolved by the first check that does not fire
    # The latest trace per tenant and metric in 26 hours, firing: one alert per metric.
    assert query.startswith(bicep_string("coverageTraces") + " | where timestamp > ago(26h) | ")
    assert "summarize arg_max(timestamp, state" in query and ") by tenant, metric |" in query
    assert query.index("arg_max") < query.index('where state == "firing"')
    assert query.endswith("| extend firing = 1")
    assert "metricMeasureColumn: 'firing'" in rule
    assert "operator: 'GreaterThan'" in rule and "threshold: 0\n" in rule
    for dimension in ("tenant", "metric"):
        assert f"{{ name: '{dimension}', operator: 'Include', values: ['*'] }}" in rule
    assert 26 <= hours(group(r"windowSize: '(\w+)'", rule)) <= 48
    assert hours(group(r"evaluationFrequency: '(\w+)'", rule)) <= 1


def test_the_workbook_charts_coverage_states_and_health_from_application_insights() -> None:
    (workbook,) = resource_blocks(CODE, "Microsoft.Insights/workbooks").values()
    items = CODE[CODE.index("var workbookQueries = [") : CODE.index("var workbookHeader =")]
    content = CODE[CODE.index("var workbookHeader =") : CODE.index("resource workbook ")]

    assert "serializedData: string(workbookContent)" in workbook
    assert "sourceId: insights.id" in workbook and "kind: 'shared'" in workbook
    assert re.search(r"name: guid\(insights\.id, '[\w-]+'\)", workbook)  # a GUID, stable
    assert "fallbackResourceIds: [insights.id]" in content
    assert "items: concat(workbookHeader, workbookQueryItems)" in content
    assert "for item in workbookQueries: {" in content
    assert "version: 'Notebook/1.0'" in content and "version: 'KqlItem/1.0'" in content
    assert "resourceType: 'microsoft.insights/components'" in content
    # Coverage over time with its threshold; the alert states; the monitor's own health.
    chart = bicep_string("coverageChartQuery")
    assert chart.startswith(bicep_string("coverageTraces"))
    assert "ratio" in chart and "threshold" in chart
    assert "query: coverageChartQuery\n    visualization: 'timechart'" in items
    assert "arg_max(timestamp, state" in bicep_string("alertStatesQuery")
    health = bicep_string("healthQuery")
    for function in ("FetchReport", "ContinueFetch", "CheckThresholds", "WeeklyDigest"):
        assert f'"{function}"' in health
    assert "last_success = maxif(timestamp, success == true)" in health
    assert "failures = countif(success == false)" in health
    for name in re.findall(r"query: (\w+)", items):
        assert re.search(rf"^var {name} = '", CODE, re.M), name
    assert "output workbookId string = workbook.id" in CODE
