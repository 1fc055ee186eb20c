"""The README's Deploy steps agree with the template, its parameters and the workflow.

tests/test_ci_workflow.py checks the template and the workflow themselves (settings, security,
the dead man's switch); this file checks that nothing the README tells users to type names
something that does not exist, and that the template sets nothing the code does not read.
"""

from __future__ import annotations

import json
import os
import re

from shared.settings import SETTING_NAMES
from standins.functions_host import ROOT

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
