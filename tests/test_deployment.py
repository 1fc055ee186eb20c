"""The deployment story agrees with the code: Bicep, its parameters, the workflow, the README.

This machine cannot compile Bicep, so these read the template as text (checkov, run by
scripts/scan-infra, checks its security settings); the point here is that nothing the code reads
is forgotten and nothing the README tells users to type names something that does not exist.
"""

from __future__ import annotations

import json
import os
import re

import yaml

from shared.settings import SETTING_NAMES
from standins.functions_host import ROOT

BICEP = (ROOT / "infra" / "main.bicep").read_text()
PARAMETERS = json.loads((ROOT / "infra" / "main.parameters.example.json").read_text())
WORKFLOW_TEXT = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
WORKFLOW = yaml.safe_load(WORKFLOW_TEXT)
README = (ROOT / "README.md").read_text()
DEPLOY = README[README.index("## Deploy") : README.index("## Development")]

# Settings the code reads that Azure does not need from this template: the local connection
# string, the alternative to the account name, and the table names (their defaults serve).
NOT_SET_IN_AZURE = {
    "AzureWebJobsStorage",
    "AzureWebJobsStorage__tableServiceUri",
    "SNAPSHOT_TABLE",
    "ALERT_TABLE",
}


def bicep_settings() -> set[str]:
    return set(re.findall(r"\{ name: '(\w+)', value: ", BICEP)) | set(
        re.findall(r"^\s*name: '([A-Za-z_]+)'\n\s*value:", BICEP, re.M)
    )


def bicep_params() -> set[str]:
    return set(re.findall(r"^param (\w+) ", BICEP, re.M))


def test_the_template_sets_every_setting_the_app_reads_in_azure() -> None:
    missing = set(SETTING_NAMES) - NOT_SET_IN_AZURE - bicep_settings()

    assert not missing, f"infra/main.bicep never sets {sorted(missing)}"


def test_the_template_sets_no_setting_the_code_does_not_know() -> None:
    platform = {
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "AzureWebJobsStorage__credential",
        "FUNCTIONS_EXTENSION_VERSION",
        "FUNCTIONS_WORKER_RUNTIME",
        "WEBSITE_RUN_FROM_PACKAGE",
        "WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID",
    }

    assert bicep_settings() - platform <= set(SETTING_NAMES)


def test_the_webhook_is_a_secure_parameter_kept_in_key_vault_and_never_output() -> None:
    assert re.search(r"@secure\(\)\nparam teamsWebhookUrl string", BICEP)
    assert "@Microsoft.KeyVault(SecretUri=" in BICEP
    outputs = re.findall(r"^output .*$", BICEP, re.M)
    assert outputs and not any(re.search(r"webhook|secret|key", o, re.I) for o in outputs)


def test_storage_is_used_without_keys_and_the_app_only_over_tls_1_2() -> None:
    for setting in (
        "allowSharedKeyAccess: false",
        "minimumTlsVersion: 'TLS1_2'",
        "httpsOnly: true",
        "minTlsVersion: '1.2'",
        "ftpsState: 'Disabled'",
        "enableRbacAuthorization: true",
    ):
        assert setting in BICEP, setting
    assert "listKeys" not in BICEP
    assert BICEP.count("properties: { allow: false }") == 2  # FTP and SCM basic auth off


def test_the_identity_gets_exactly_the_storage_and_vault_roles_the_readme_names() -> None:
    roles = dict(re.findall(r"^  (\w+): '([0-9a-f-]{36})'$", BICEP, re.M))

    assert roles == {
        "storageBlobDataOwner": "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
        "storageQueueDataContributor": "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
        "storageTableDataContributor": "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
        "keyVaultSecretsUser": "4633458b-17de-408a-b874-0445c86b69e6",
    }
    for name in ("Storage Table Data Contributor", "Storage Queue Data Contributor"):
        assert name in README


def test_the_dead_mans_switch_watches_fetch_report_over_26_hours() -> None:
    rule = BICEP[BICEP.index("resource deadMansSwitch") :]
    rule = rule[: rule.index("\n}\n")]

    assert 'name == "FetchReport" and success == true' in rule
    assert "ago(26h)" in rule
    assert "actionGroups: [actionGroupResourceId]" in rule


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


def test_every_push_runs_the_same_ci_script() -> None:
    triggers = WORKFLOW[True]  # YAML 1.1 reads the key `on` as true
    steps = WORKFLOW["jobs"]["test"]["steps"]

    assert "push" in triggers
    assert any(step.get("run") == "bash .ci/run" for step in steps)


def test_tags_deploy_with_openid_connect_and_no_stored_secret() -> None:
    deploy = WORKFLOW["jobs"]["deploy"]
    uses = {step.get("uses", "").split("@")[0]: step for step in deploy["steps"]}

    assert "startsWith(github.ref, 'refs/tags/v')" in deploy["if"]
    assert deploy["needs"] == "test"
    assert deploy["permissions"]["id-token"] == "write"
    login = uses["azure/login"]["with"]
    assert set(login) == {"client-id", "tenant-id", "subscription-id"}
    assert all(value.startswith("${{ vars.") for value in login.values())
    assert (
        uses["Azure/functions-action"]["with"]["app-name"] == "${{ vars.AZURE_FUNCTIONAPP_NAME }}"
    )
    assert "secrets." not in WORKFLOW_TEXT
    assert "publish-profile" not in WORKFLOW_TEXT


def test_the_readme_names_the_repository_variables_the_workflow_reads() -> None:
    variables = set(re.findall(r"vars\.(\w+)", WORKFLOW_TEXT))

    assert variables
    for name in variables:
        assert f"`{name}`" in DEPLOY, name
