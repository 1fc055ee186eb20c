"""The workflow's proof jobs, `bicep` and `func-start`, which run on GitHub's runners only.

Neither can run here (no Bicep CLI, no Core Tools), so what can be checked is checked: the
YAML's jobs and the order of their steps, that every file and folder they name exists, that
what they install matches what the project pins, and that the stand-ins start exactly as the
job's own command line starts them.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.deployment.test_ci_workflow import BICEP, ROOT, WORKFLOW, steps_using

JOBS: dict[str, Any] = WORKFLOW["jobs"]


def runs(job: str) -> list[str]:
    return [step["run"] for step in JOBS[job]["steps"] if "run" in step]


def step_index(job: str, text: str) -> int:
    """The index, among the job's `run` steps, of the one step that contains `text`."""
    found = [i for i, run in enumerate(runs(job)) if text in run]
    assert len(found) == 1, (text, found)
    return found[0]


def command_line(job: str, program: str) -> str:
    """The one line of the job's scripts that starts with `program`."""
    lines = [line.strip() for run in runs(job) for line in run.splitlines()]
    (line,) = [line for line in lines if line.startswith(program)]
    return line


def test_the_bicep_job_compiles_and_lints_the_template_without_signing_in() -> None:
    job = JOBS["bicep"]
    install = step_index("bicep", "az bicep install")

    assert job["runs-on"] == "ubuntu-latest" and steps_using(job, "actions/checkout")
    assert install < step_index("bicep", "az bicep build --file infra/main.bicep ")
    assert install < step_index("bicep", "az bicep lint --file infra/main.bicep")
    assert (ROOT / "infra" / "main.bicep").exists()
    assert not steps_using(job, "azure/login")  # compiling needs no Azure account
    assert "permissions" not in job  # the workflow's: contents: read


def test_the_func_start_job_installs_core_tools_4_the_pinned_azurite_and_the_app() -> None:
    job = JOBS["func-start"]
    install = runs("func-start")[step_index("func-start", "azure-functions-core-tools@4")]
    azurite = re.search(
        r"^AZURITE_VERSION=(\S+)$", (ROOT / "scripts" / "install-tools").read_text(), re.M
    )
    pythons = [str(v) for v in job["strategy"]["matrix"]["python-version"]]
    allowed = re.search(r"@allowed\(\[(.*)\]\)\nparam pythonVersion", BICEP)

    assert azurite and f"azurite@{azurite.group(1)}" in install
    assert "-r requirements.txt" in install and (ROOT / "requirements.txt").exists()
    assert "func --version" in install
    assert allowed and set(pythons) <= set(re.findall(r"'([\d.]+)'", allowed.group(1)))
    assert "3.13" in pythons  # Flex Consumption's default
    (python,) = steps_using(job, "actions/setup-python")
    assert python["with"]["python-version"] == "${{ matrix.python-version }}"
    assert job["strategy"]["fail-fast"] is False  # each version's result is its own


def test_the_func_start_job_starts_everything_then_runs_fetch_report_and_waits_for_a_card() -> None:
    order = [
        step_index("func-start", "azurite --silent"),
        step_index("func-start", "python -m standins.serve"),
        step_index("func-start", "func start"),
        step_index("func-start", "/admin/functions/FetchReport"),
        step_index("func-start", "cards/card-*.json"),
    ]
    serve = shlex.split(command_line("func-start", "python -m standins.serve"))
    cards = serve[serve.index("--cards") + 1]
    trigger = runs("func-start")[order[3]]
    logs = [step for step in JOBS["func-start"]["steps"] if step.get("if") == "always()"]

    assert order == sorted(order)
    # Azurite on its default ports: what UseDevelopmentStorage=true (serve's default) means.
    azurite = runs("func-start")[order[0]]
    assert "--inMemoryPersistence" in azurite and not re.search(r"--\w+Port", azurite)
    assert "--storage" not in serve
    # The host is up before FetchReport is run through its admin endpoint.
    assert "until curl -fsS http://localhost:7071/admin/host/status" in runs("func-start")[order[2]]
    assert "curl -fsS -X POST http://localhost:7071/admin/functions/FetchReport" in trigger
    assert "-H 'Content-Type: application/json' -d '{}'" in trigger
    assert (ROOT / "FetchReport" / "function.json").exists()
    # The card is looked for where the stand-in writes it, within a timeout.
    wait = runs("func-start")[order[4]]
    assert cards == "$RUNNER_TEMP/cards" and 'ls "$RUNNER_TEMP"/cards/card-*.json' in wait
    assert re.search(r"^timeout \d+ ", wait)
    # Every log (Azurite's, the stand-ins', the host's), whichever step failed.
    assert len(logs) == 1 and logs[0]["run"] == 'tail -n +1 "$RUNNER_TEMP"/*.log'
    for log in ("azurite.log", "standins.log", "func.log"):
        assert f'> "$RUNNER_TEMP/{log}" 2>&1 &' in "\n".join(runs("func-start")), log


def test_the_stand_ins_start_as_the_job_s_command_line_starts_them(tmp_path: Path) -> None:
    line = command_line("func-start", "python -m standins.serve")
    words = shlex.split(line.split(" > ")[0])
    env = {
        **{k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")},
        "PYTHONPATH": str(ROOT),
        "RUNNER_TEMP": str(tmp_path),
    }
    args = [os.path.expandvars(word.replace("$RUNNER_TEMP", env["RUNNER_TEMP"])) for word in words]
    assert args[:3] == ["python", "-m", "standins.serve"]
    wait = runs("func-start")[step_index("func-start", "python -m standins.serve")]
    settings = tmp_path / args[args.index("--settings") + 1]
    assert f"until [ -f {args[args.index('--settings') + 1]} ]" in wait  # the file it writes

    # Run in another folder (the settings file is written relative to it, as at the checkout).
    process = subprocess.Popen(
        [sys.executable, *args[1:]], cwd=tmp_path, env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while not settings.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        values = json.loads(settings.read_text())["Values"]
        assert process.poll() is None  # serving, for the steps that follow
    finally:
        process.send_signal(signal.SIGTERM)  # as the runner ends it
        out, _ = process.communicate(timeout=30)

    assert process.returncode == 0  # stopped cleanly
    example = json.loads((ROOT / "local.settings.example.json").read_text())["Values"]
    assert set(example) <= set(values)
    assert values["AzureWebJobsStorage"] == "UseDevelopmentStorage=true"
    assert values["FUNCTIONS_WORKER_RUNTIME"] == "python"
    assert {"IDENTITY_ENDPOINT", "IDENTITY_HEADER"} <= set(values)
    assert "Graph stand-in:" in out and "Teams stand-in:" in out
    assert (tmp_path / "cards").is_dir()
