"""`.funcignore` keeps every local environment, tool and cache out of a published package.

A manual publish (`func azure functionapp publish`) or the workflow's deploy (respect-funcignore)
uploads the folder minus what `.funcignore` names, in .gitignore's syntax. What ships must be
the app only: host.json, requirements.txt, the function folders and shared/.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shutil
import subprocess

import pytest

from standins.functions_host import ROOT

PATTERNS = [
    line.strip()
    for line in (ROOT / ".funcignore").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]
FUNCTIONS = sorted(spec.parent.name for spec in ROOT.glob("*/function.json"))
# Built for the Consumption zip (README, Deploy step 4), which ships it on purpose.
SHIPPED_ON_PURPOSE = {".python_packages/"}


def left_out(name: str, *, directory: bool) -> bool:
    """Whether a top-level file or folder `name` matches a pattern, as gitignore reads these
    (no negations, no slashes but a trailing one, which matches folders only)."""
    for pattern in PATTERNS:
        assert not pattern.startswith("!") and "/" not in pattern.rstrip("/"), pattern
        if pattern.endswith("/") and not directory:
            continue
        if fnmatch.fnmatchcase(name, pattern.rstrip("/")):
            return True
    return False


@pytest.mark.parametrize("python", ["python3.11", "python3.12", "python3.13"])
def test_every_virtual_environment_python_env_creates_is_left_out(python: str) -> None:
    if shutil.which(python) is None:
        pytest.skip(f"{python} is not installed here")
    venv = subprocess.run(
        ["bash", "-c", '. scripts/python-env && echo "$VENV"'],
        cwd=ROOT,
        env={**{k: v for k, v in os.environ.items() if k != "VENV"}, "PYTHON": python},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    assert venv.startswith(".venv"), venv
    assert left_out(venv, directory=True), venv


def test_the_tools_the_scripts_install_and_every_cache_are_left_out() -> None:
    for folder in (
        ".tools",  # Azurite, the card renderer, the KQL parser, checkov's venv
        ".cards",  # scripts/render-cards
        ".azurite",
        ".venv",
        ".venv-3.11",
        "venv",
        "__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".hypothesis",
        ".github",
        ".vscode",
    ):
        assert left_out(folder, directory=True), folder
    for file in ("local.settings.json", "app.zip", "module.pyc", "__azurite_db_table__.json"):
        assert left_out(file, directory=False), file


def test_everything_git_ignores_is_left_out_but_the_consumption_packages() -> None:
    ignored = [
        line.strip()
        for line in (ROOT / ".gitignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    for pattern in ignored:
        if pattern in SHIPPED_ON_PURPOSE or pattern.startswith("infra/"):
            continue  # infra/ is left out whole
        name = pattern.rstrip("/").replace("*", "x")
        assert left_out(name, directory=pattern.endswith("/")), pattern


def test_the_app_itself_ships() -> None:
    assert FUNCTIONS == [
        "CheckThresholds",
        "ContinueFetch",
        "FetchReport",
        "FetchTenant",
        "WeeklyDigest",
    ]
    for folder in ("shared", *FUNCTIONS):
        assert not left_out(folder, directory=True), folder
    for file in ("host.json", "requirements.txt"):
        assert not left_out(file, directory=False), file
    assert json.loads((ROOT / "host.json").read_text())["version"] == "2.0"
    for folder in ("tests", "standins", "infra", "scripts"):
        assert left_out(folder, directory=True), folder
