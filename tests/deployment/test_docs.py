"""The README's promises: its two commands, and the settings it names, match the code."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from shared.settings import SETTING_NAMES
from standins.functions_host import ROOT

README = (ROOT / "README.md").read_text()


def first_code_block(text: str) -> list[str]:
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block, "the README must open with a bash block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_the_local_cycle_and_the_test_commands() -> None:
    assert README.index("```bash") < 1000
    assert first_code_block(README) == ["scripts/local-cycle", "scripts/test"]
    for script in ("scripts/local-cycle", "scripts/test"):
        assert os.access(ROOT / script, os.X_OK)


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^\s*(PYTHON=\S+ )?scripts/test\b", ci, re.M)


def test_the_local_cycle_fetches_stores_checks_and_prints_the_alert() -> None:
    # What scripts/local-cycle runs after installing; the webhook is unset on purpose.
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "AZURITE_TABLE")}
    result = subprocess.run(
        [sys.executable, "-m", "standins.local_cycle"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )

    assert result.returncode == 0, result.stderr
    out = result.stderr
    assert "stored snapshot" in out
    assert "TEAMS_WEBHOOK_URL is not set; this alert is logged instead of posted" in out
    assert "Registered for MFA at 88.3%, below 95%" in out
    assert "Traceback" not in out


def test_the_readme_documents_exactly_the_settings_the_code_reads() -> None:
    table = set(re.findall(r"^\| `([A-Za-z_]+)` \|", README, re.M))
    assert table == set(SETTING_NAMES)


def test_the_example_settings_carry_every_setting_but_the_storage_alternatives() -> None:
    values = json.loads((ROOT / "local.settings.example.json").read_text())["Values"]
    alternatives = {n for n in SETTING_NAMES if n.startswith("AzureWebJobsStorage__")}
    assert set(SETTING_NAMES) - alternatives <= set(values)
    assert values["AzureWebJobsStorage"] == "UseDevelopmentStorage=true"
    assert not values["TEAMS_WEBHOOK_URL"]  # never a real webhook in the repository


def test_local_settings_json_is_ignored_by_git() -> None:
    assert "local.settings.json" in (ROOT / ".gitignore").read_text().splitlines()
