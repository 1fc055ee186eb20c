"""The CI workflow and the Bicep template, read as files: nothing here reaches Azure or GitHub.

The workflow must test every push the way `.ci/run` does and deploy only tags `v*`, with OpenID
Connect and no stored secret. The template (which this machine cannot compile; checkov, run by
scripts/scan-infra, checks it too) must set every setting the code needs in Azure, keep the
security settings the README promises, and never hand the webhook to anything but Key Vault.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from shared.settings import SETTING_NAMES

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW_TEXT = (ROOT / ".github" / "workflows" / "ci.yml").read_text()
WORKFLOW: dict[Any, Any] = yaml.safe_load(WORKFLOW_TEXT)
BICEP_TEXT = (ROOT / "infra" / "main.bicep").read_text()

# Settings the code reads that the template deliberately leaves unset in Azure:
# - AzureWebJobsStorage: a connection string carries an account key, and the template turns
#   shared keys off; the app uses AzureWebJobsStorage__accountName with its identity instead.
# - AzureWebJobsStorage__tableServiceUri: the alternative to the account name for national
#   clouds; the account name gives the public cloud's endpoint.
# - SNAPSHOT_TABLE, ALERT_TABLE: their defaults serve; the app creates the tables.
# - LOG_HTTP_REQUESTS: a troubleshooting switch, set by hand in the portal when needed.
NOT_SET_IN_AZURE = {
    "AzureWebJobsStorage",
    "AzureWebJobsStorage__tableServiceUri",
    "SNAPSHOT_TABLE",
    "ALERT_TABLE",
    "TENANT_TABLE",
    "LOG_HTTP_REQUESTS",
}


# ---- Reading Bicep as text ----------------------------------------------------------------


def without_comments(code: str) -> str:
    """The code with // and /* */ comments removed, leaving strings ('https://…') alone."""
    out: list[str] = []
    i, n, in_string = 0, len(code), False
    while i < n:
        char = code[i]
        if in_string:
            out.append(char)
            if char == "\\" and i + 1 < n:
                out.append(code[i + 1])
                i += 1
            elif char == "'":
                in_string = False
        elif char == "'":
            in_string = True
            out.append(char)
        elif code.startswith("//", i):
            while i < n and code[i] != "\n":
                i += 1
            continue
        elif code.startswith("/*", i):
            end = code.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        else:
            out.append(char)
        i += 1
    return "".join(out)


BICEP = without_comments(BICEP_TEXT)


def app_setting_names(code: str) -> set[str]:
    """Names of `{ name: 'X', value: … }` entries, on one line or two (resource names have no
    `value:` after them)."""
    return set(re.findall(r"\bname:\s*'([A-Za-z_][A-Za-z0-9_]*)'\s*[,\n]\s*value:", code))


def resource_blocks(code: str, resource_type: str) -> dict[str, str]:
    """Top-level resources of a type, by symbolic name: from `resource` to the closing brace
    at the start of a line."""
    blocks = {}
    pattern = rf"^resource (\w+) '{re.escape(resource_type)}@[\w-]+'.*?^[}}\]]$"
    for match in re.finditer(pattern, code, re.M | re.S):
        blocks[match.group(1)] = match.group(0)
    return blocks


def decorators_of(code: str, param: str) -> list[str]:
    lines = code.splitlines()
    index = next(i for i, line in enumerate(lines) if re.match(rf"param {param}\b", line))
    decorators = []
    for line in reversed(lines[:index]):
        if not line.startswith("@"):
            break
        decorators.append(line.strip())
    return decorators


def group(pattern: str, text: str) -> str:
    """The first group of the pattern's first match in text; the test fails without one."""
    match = re.search(pattern, text)
    assert match, f"{pattern!r} not found"
    return match.group(1)


def hours(duration: str) -> float:
    """An ISO 8601 duration of days, hours and minutes (P2D, PT1H, PT30M) in hours."""
    match = re.fullmatch(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?)?", duration)
    assert match and duration not in ("P", "PT"), duration
    days, hrs, mins = (int(group or 0) for group in match.groups())
    return days * 24 + hrs + mins / 60


# ---- The workflow ---------------------------------------------------------------------------


def triggers() -> dict[str, Any]:
    on = WORKFLOW.get("on", WORKFLOW.get(True))  # YAML 1.1 reads a bare `on` as true
    assert isinstance(on, dict), on
    return on


def steps_using(job: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [
        step
        for step in job["steps"]
        if step.get("uses", "").split("@")[0].lower() == action.lower()
    ]


def test_the_workflow_parses_and_runs_on_every_push_and_pull_request() -> None:
    on = triggers()

    assert set(on) >= {"push", "pull_request"}
    # No branch or tag filter on push: every branch is tested, and tags reach the deploy job.
    assert not (on["push"] or {}), on["push"]
    assert set(WORKFLOW["jobs"]) >= {"test", "deploy"}


def test_the_test_job_runs_the_ci_script_on_python_3_11_to_3_13_and_node_20() -> None:
    job = WORKFLOW["jobs"]["test"]
    python = steps_using(job, "actions/setup-python")
    node = steps_using(job, "actions/setup-node")
    versions = job.get("strategy", {}).get("matrix", {}).get("python-version", [])
    (run,) = [step for step in job["steps"] if "run" in step]

    assert job["runs-on"] == "ubuntu-latest"
    assert python and node and steps_using(job, "actions/checkout")
    # Every version Azure Functions runs that the app supports; 3.10 is end of life.
    assert [str(v) for v in versions] == ["3.11", "3.12", "3.13"]
    assert str(python[0]["with"]["python-version"]) == "${{ matrix.python-version }}"
    assert str(node[0]["with"]["node-version"]) == "20"
    assert run["run"] == "bash .ci/run"
    # .ci/run tests on 3.13 and 3.11 by default; a matrix job has only its own interpreter.
    assert run["env"]["CI_PYTHONS"] == "python${{ matrix.python-version }}"


def test_ci_tests_on_the_newest_and_the_oldest_supported_python_by_default() -> None:
    ci = (ROOT / ".ci" / "run").read_text()

    assert "CI_PYTHONS:-python3.13 python3.11" in ci


def test_deploy_runs_only_for_tags_v_after_the_tests_in_the_production_environment() -> None:
    deploy = WORKFLOW["jobs"]["deploy"]
    condition = re.sub(r"\s+", " ", deploy.get("if", ""))

    assert "startsWith(github.ref, 'refs/tags/v')" in condition
    assert "||" not in condition  # nothing widens it to branches
    # Only what passed the tests, compiled, and ran under Core Tools is deployed.
    assert deploy.get("needs") == ["test", "bicep", "func-start"]
    assert deploy.get("environment") == "production"
    assert deploy["runs-on"] == "ubuntu-latest"


def test_deploy_signs_in_with_openid_connect_from_repository_variables() -> None:
    deploy = WORKFLOW["jobs"]["deploy"]
    login = steps_using(deploy, "azure/login")

    assert deploy["permissions"] == {"id-token": "write", "contents": "read"}
    assert WORKFLOW.get("permissions") == {"contents": "read"}  # nothing else gets a token
    assert len(login) == 1 and login[0]["uses"] == "azure/login@v2"
    assert login[0]["with"] == {
        "client-id": "${{ vars.AZURE_CLIENT_ID }}",
        "tenant-id": "${{ vars.AZURE_TENANT_ID }}",
        "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
    }
    steps = deploy["steps"]
    assert steps.index(login[0]) < steps.index(steps_using(deploy, "Azure/functions-action")[0])


def test_the_workflow_stores_no_secret() -> None:
    assert "secrets." not in WORKFLOW_TEXT
    for credential in ("publish-profile", "creds:", "client-secret", "password"):
        assert credential not in WORKFLOW_TEXT, credential


def test_deploy_publishes_with_the_functions_action_and_a_remote_build() -> None:
    publish = steps_using(WORKFLOW["jobs"]["deploy"], "Azure/functions-action")

    assert len(publish) == 1 and publish[0]["uses"] == "Azure/functions-action@v1"
    given = publish[0]["with"]
    assert given["app-name"] == "${{ vars.AZURE_FUNCTIONAPP_NAME }}"
    assert given["package"] == "."
    # Flex Consumption builds remotely with `remote-build`; other plans use the two Kudu flags.
    flex = given.get("sku") == "flexconsumption" and given.get("remote-build") is True
    kudu = given.get("scm-do-build-during-deployment") is True and given.get("enable-oryx-build")
    assert flex or kudu, given


def test_every_action_is_pinned_by_its_major_version_tag() -> None:
    uses = [
        step["uses"] for job in WORKFLOW["jobs"].values() for step in job["steps"] if "uses" in step
    ]

    assert uses
    for action in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", action), action


# ---- The Bicep template ---------------------------------------------------------------------


def test_the_template_sets_every_setting_the_code_reads_in_azure() -> None:
    placeholders = {
        name
        for spec in ROOT.glob("*/function.json")
        for name in re.findall(r"%(\w+)%", spec.read_text())
    }
    required = (set(SETTING_NAMES) - NOT_SET_IN_AZURE) | placeholders
    settings = app_setting_names(BICEP)

    assert NOT_SET_IN_AZURE <= set(SETTING_NAMES)  # the exclusions name real settings
    assert {"FETCH_SCHEDULE", "DIGEST_SCHEDULE"} <= placeholders <= set(SETTING_NAMES)
    missing = required - settings
    assert not missing, f"infra/main.bicep never sets {sorted(missing)}"
    # Left out on purpose, so never set: a connection string would need the account's key.
    assert not settings & {"AzureWebJobsStorage", "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING"}


def test_identity_settings_come_with_a_user_assigned_identity() -> None:
    settings = app_setting_names(BICEP)

    assert {"AZURE_CLIENT_ID", "AzureWebJobsStorage__clientId"} <= settings
    assert "AzureWebJobsStorage__credential" in settings
    assert re.search(r"'managedidentity'", BICEP)
    assert "APPLICATIONINSIGHTS_CONNECTION_STRING" in settings
    assert re.search(r"param userAssignedIdentityResourceId string = ''", BICEP)


def test_flex_consumption_gets_no_worker_runtime_settings_and_a_python_runtime() -> None:
    runtime_vars = [
        name
        for name, body in re.findall(r"^var (\w+) = \[(.*?)^\]", BICEP, re.M | re.S)
        if "FUNCTIONS_WORKER_RUNTIME" in body
    ]

    assert len(runtime_vars) == 1
    assert BICEP.count("FUNCTIONS_WORKER_RUNTIME") == 1
    assert BICEP.count("FUNCTIONS_EXTENSION_VERSION") == 1
    assert re.search(rf"\bisFlex \? \[\] : {runtime_vars[0]}\b", BICEP)
    assert re.search(r"linuxFxVersion: isFlex \? null : 'Python\|\$\{pythonVersion\}'", BICEP)
    assert re.search(r"runtime: \{ name: 'python', version: pythonVersion \}", BICEP)
    # Python 3.13 wherever the plan offers it: Flex Consumption; Linux Consumption stops at 3.12.
    assert re.search(
        r"@allowed\(\['3\.11', '3\.12', '3\.13'\]\)\nparam pythonVersion string", BICEP
    )
    assert (
        "param pythonVersion string = hostingPlan == 'FlexConsumption' ? '3.13' : '3.12'" in BICEP
    )
    assert re.search(r"functionAppConfig: isFlex \? \w+ : null", BICEP)
    assert "{ name: 'FC1', tier: 'FlexConsumption' }" in BICEP
    assert "{ name: 'Y1', tier: 'Dynamic' }" in BICEP


def test_storage_keys_are_off_and_everything_is_https_with_tls_1_2() -> None:
    for setting in (
        r"allowSharedKeyAccess: false",
        r"allowBlobPublicAccess: false",
        r"supportsHttpsTrafficOnly: true",
        r"minimumTlsVersion: 'TLS1_2'",
        r"httpsOnly: true",
        r"ftpsState: 'Disabled'",
        r"minTlsVersion: '1\.2'",
        r"kind: 'functionapp,linux'",
        r"enableRbacAuthorization: true",
    ):
        assert len(re.findall(rf"\b{setting}", BICEP)) == 1, setting
    for weakening in ("listKeys(", "listKeys (", "AccountKey=", "allowSharedKeyAccess: true"):
        assert weakening not in BICEP, weakening


def test_basic_publishing_credentials_are_off_for_ftp_and_scm() -> None:
    policies = resource_blocks(BICEP, "Microsoft.Web/sites/basicPublishingCredentialsPolicies")
    names = {group(r"name: '(\w+)'", block) for block in policies.values()}

    assert names == {"ftp", "scm"}
    for block in policies.values():
        assert "parent: functionApp" in block
        assert re.search(r"properties: \{ allow: false \}", block)


def test_the_identity_gets_its_storage_and_vault_roles_named_by_guid() -> None:
    assignments = resource_blocks(BICEP, "Microsoft.Authorization/roleAssignments")

    for role in (
        "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",  # Storage Blob Data Owner
        "974c5e8b-45b9-4653-ba55-5f855dd0fb88",  # Storage Queue Data Contributor
        "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",  # Storage Table Data Contributor
        "4633458b-17de-408a-b874-0445c86b69e6",  # Key Vault Secrets User
    ):
        assert f"'{role}'" in BICEP, role
    # The three storage roles (a loop), the vault's, and Monitoring Metrics Publisher on
    # Application Insights (see tests/deployment/test_deployment.py).
    assert len(assignments) == 3
    for block in assignments.values():
        assert re.search(r"name: guid\(\w+\.id, \w+, ", block), block
        assert "principalId: principalId" in block
        assert "principalType: 'ServicePrincipal'" in block


def test_the_webhook_is_a_secure_parameter_that_only_key_vault_receives() -> None:
    secrets = resource_blocks(BICEP, "Microsoft.KeyVault/vaults/secrets")
    uses = [m.start() for m in re.finditer(r"\bteamsWebhookUrl\b", BICEP)]
    declaration = BICEP.index("param teamsWebhookUrl string")

    assert "@secure()" in decorators_of(BICEP, "teamsWebhookUrl")
    assert re.search(r"^param teamsWebhookUrl string = ''$", BICEP, re.M)  # no default secret
    assert len(secrets) == 1
    secret = next(iter(secrets.values()))
    assert "value: teamsWebhookUrl" in secret
    for at in uses:
        if at == declaration + len("param "):
            continue
        in_secret = BICEP.find(secret) <= at < BICEP.find(secret) + len(secret)
        checked_for_empty = BICEP[at - len("empty(") : at] == "empty("
        assert in_secret or checked_for_empty, BICEP[at - 40 : at + 40]
    assert re.search(r"'@Microsoft\.KeyVault\(SecretUri=\$\{vault\.properties\.vaultUri\}", BICEP)


def test_no_output_carries_a_secret() -> None:
    outputs = re.findall(r"^output .*$", BICEP, re.M)
    names = {line.split()[1] for line in outputs}

    assert {"functionAppName", "principalId"} <= names
    assert any("defaultHostName" in line for line in outputs)
    for line in outputs:
        assert not re.search(
            r"webhook|secret|password|key|ConnectionString|listKeys|vault", line, re.I
        ), line


def outer_alerts() -> dict[str, str]:
    """The `outerAlerts` entries of the template, by key."""
    array = BICEP[BICEP.index("var outerAlerts = [") : BICEP.index("resource outerAlert ")]
    return {group(r"key: '([\w-]+)'", entry): entry for entry in array.split("  {\n")[1:]}


def test_the_outer_watch_fires_without_a_successful_fetch_or_check_in_26_hours() -> None:
    rules = resource_blocks(BICEP, "Microsoft.Insights/scheduledQueryRules")
    alerts = outer_alerts()

    # The outer watch (a loop) and the coverage alert (tests/deployment/test_deployment.py).
    assert set(rules) == {"outerAlert", "coverageRule"}
    rule = rules["outerAlert"]
    assert "for alert in outerAlerts" in rule
    for key, function in (
        ("no-successful-fetch", "FetchReport"),
        ("no-successful-check", "CheckThresholds"),
    ):
        entry = alerts[key]
        query = group(r"query: '(.*)'", entry)
        assert "ago(26h)" in query
        assert re.search(rf"name == \"{function}\" and success == true", query)
        assert re.search(r"summarize (\w+) = count\(\)$", query)  # one row even with no runs
        assert 26 <= hours(group(r"windowSize: '(\w+)'", entry)) <= 48  # 2 days is the limit
        assert "operator: 'LessThan'" in entry and "threshold: 1\n" in entry
    assert hours(group(r"evaluationFrequency: '(\w+)'", rule)) <= 1
    assert "scopes: [insights.id]" in rule
    assert "actions: { actionGroups: [actionGroupResourceId] }" in rule


def test_the_outer_watch_fires_when_a_check_reaches_the_poison_queue() -> None:
    entry = outer_alerts()["poison-check"]
    query = group(r"query: '(.*)'", entry)
    trigger = json.loads((ROOT / "CheckThresholds" / "function.json").read_text())["bindings"][0]

    assert f'has "{trigger["queueName"]}-poison"' in query
    assert hours(group(r"windowSize: '(\w+)'", entry)) >= 1
    assert "operator: 'GreaterThan'" in entry and "threshold: 0\n" in entry


def test_the_example_parameters_are_placeholders_without_the_webhook() -> None:
    text = (ROOT / "infra" / "main.parameters.example.json").read_text()
    example = json.loads(text)
    params = set(re.findall(r"^param (\w+) ", BICEP, re.M))

    assert example["$schema"].endswith("/deploymentParameters.json#")
    assert set(example["parameters"]) <= params
    assert "actionGroupResourceId" in example["parameters"]  # the one required parameter
    assert "teamsWebhookUrl" not in example["parameters"]
    assert not re.search(r"webhook\.office|logic\.azure|sig=", text, re.I)
