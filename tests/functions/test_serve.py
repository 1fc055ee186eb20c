"""`python -m standins.serve`: the stand-ins the workflow's `func-start` job runs the app against.

Started here exactly as the job starts it (a process of its own, writing local.settings.json),
then the app is run from that file's values alone, as Core Tools would pass them to the worker:
through Microsoft's worker (standins/functions_host.py) instead of `func start`, and against
this session's Azurite instead of Azurite's default ports. The card must reach the stand-in's
process, which then exits 0, as the job requires.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from standins.azurite import Azurite
from standins.functions_host import ROOT

BASE_ENV = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG")}


def serve(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "standins.serve", *args],
        cwd=ROOT,
        env=BASE_ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(path: Path, process: subprocess.Popen[str], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, f"{path} not written within {timeout} s"
        time.sleep(0.05)


def test_the_app_run_from_the_written_settings_posts_a_card_to_the_stand_in(
    tmp_path: Path, azurite: Azurite
) -> None:
    settings, cards = tmp_path / "local.settings.json", tmp_path / "cards"
    suffix = uuid.uuid4().hex[:12]
    process = serve(
        "--settings", str(settings),
        "--cards", str(cards),
        "--storage", azurite.connection_string,
        "--set", f"SNAPSHOT_TABLE=Serve{suffix}",
        "--set", f"ALERT_TABLE=ServeAlerts{suffix}",
        "--until-card", "60",
    )  # fmt: skip
    try:
        wait_for(settings, process)
        values = json.loads(settings.read_text())["Values"]
        # What Core Tools does with local.settings.json: its Values become the environment.
        app = subprocess.run(
            [
                sys.executable,
                "-c",
                "import os; from standins.functions_host import FunctionsHost; "
                "FunctionsHost(os.environ).run_timer('FetchReport')",
            ],
            cwd=ROOT,
            env={**BASE_ENV, **values},
            capture_output=True,
            text=True,
            timeout=120,
        )
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()

    assert app.returncode == 0, app.stderr
    assert process.returncode == 0, err
    assert values["FUNCTIONS_WORKER_RUNTIME"] == "python"
    for name in ("GRAPH_ENDPOINT", "TEAMS_WEBHOOK_URL", "IDENTITY_ENDPOINT"):
        assert values[name].startswith("http://127.0.0.1:"), name
    assert "card 1 received: Registered for MFA at 88.3%, below 95%" in out
    (card,) = cards.iterdir()
    assert json.loads(card.read_text())["type"] == "AdaptiveCard"
    # Printed: where the stand-ins listen; never the identity header or the webhook's sig.
    assert values["IDENTITY_HEADER"] not in out + err
    assert "sig=" not in out + err


def test_without_a_card_it_fails_after_its_timeout(tmp_path: Path) -> None:
    settings = tmp_path / "local.settings.json"
    process = serve("--settings", str(settings), "--until-card", "0.5")
    out, err = process.communicate(timeout=30)

    assert process.returncode == 1
    assert "no card reached the Teams stand-in within 0.5 s" in err
    assert settings.exists() and "wrote" in out


def test_an_existing_settings_file_is_never_overwritten(tmp_path: Path) -> None:
    settings = tmp_path / "local.settings.json"
    settings.write_text('{"Values": {"TEAMS_WEBHOOK_URL": "https://example.invalid/real"}}')
    process = serve("--settings", str(settings), "--until-card", "0.5")
    _, err = process.communicate(timeout=30)

    assert process.returncode == 2
    assert "exists: not overwritten" in err
    assert "example.invalid/real" in settings.read_text()
