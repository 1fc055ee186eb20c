"""scripts/local-cycle --days N: the whole alert lifecycle replayed on this machine."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from standins.functions_host import ROOT


def local_cycle(*args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """What scripts/local-cycle runs after installing, with only `settings` as app settings."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "AZURITE_TABLE")}
    return subprocess.run(
        [sys.executable, "-m", "standins.local_cycle", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**env, **settings},
    )


def card_titles(log: str) -> list[str]:
    """The first line of every card the run printed (the line after LogNotifier's warning)."""
    return re.findall(r"logged instead of posted:\n\S+ (.*)", log)


def test_fourteen_days_show_firing_reminders_resolved_a_drop_then_the_digest() -> None:
    result = local_cycle("--days", "14")

    assert result.returncode == 0, result.stderr
    log = result.stderr
    assert card_titles(log) == [
        "Registered for MFA at 94.1%, below 95%",  # day 3: firing
        "Registered for MFA at 93.8%, below 95%",  # day 4: reminder
        "Registered for MFA at 94.4%, below 95%",  # day 5: reminder
        "Resolved: Registered for MFA back to 95.7% (threshold 95%)",
        "Sharp drop: Capable of SSPR fell 6.1 points to 92.5%",
        "Weekly digest: every metric meets its threshold",
    ]
    assert log.count("STILL FIRING: Registered for MFA") == 2
    assert log.index("day 3 of 14") < log.index("FIRING: Registered for MFA is 94.1%")
    assert "Traceback" not in log and "**" not in log  # printed as plain text


def test_the_replay_says_what_it_overrides_and_keeps_the_user_s_settings() -> None:
    result = local_cycle("--days", "4", DROP_ALERT_POINTS="50", ALERT_REPEAT_HOURS="72")

    assert result.returncode == 0, result.stderr
    log = result.stderr
    first = log.splitlines()[0]
    for name in ("GRAPH_ENDPOINT", "AzureWebJobsStorage", "IDENTITY_ENDPOINT"):
        assert name in first
    assert "DROP_ALERT_POINTS=5 for the replay" not in log  # the user's own stands
    # Fired on day 3; with reminders every 72 hours, day 4 says nothing.
    assert card_titles(log)[:2] == [
        "Registered for MFA at 94.1%, below 95%",
        "Weekly digest: 1 metric below its threshold",
    ]


def test_days_must_be_at_least_one() -> None:
    result = local_cycle("--days", "0")

    assert result.returncode == 2
    assert "--days must be at least 1" in result.stderr


def test_with_check_enforcement_the_cycle_shows_the_report_only_policy_alert() -> None:
    result = local_cycle(CHECK_ENFORCEMENT="true")

    assert result.returncode == 0, result.stderr
    log = result.stderr
    assert "FIRING: MFA is not enforced for all users" in log
    assert "nearest 'Require multifactor authentication for all users': report-only" in log
    assert "enforced for admins by 'Require multifactor authentication for admins'" in log


def test_with_tenants_each_tenant_s_card_names_it_then_one_roll_up() -> None:
    result = local_cycle("--tenants", "4")

    assert result.returncode == 0, result.stderr
    log = result.stderr
    titles = card_titles(log)
    # Of tenants 0-3, only tenant 1 is below 95% (every third, from the second): one card.
    assert len(titles) == 2, titles
    assert titles[0].endswith(": Registered for MFA at 90.1%, below 95%")
    assert titles[-1] == "Weekly digest: 1 of 4 tenants need attention"
    assert "done: 4 tenant token(s) from Entra, 4 report(s) served, 0 429(s)" in log
    assert "Traceback" not in log


def test_tenants_must_be_at_least_one() -> None:
    result = local_cycle("--tenants", "0")

    assert result.returncode == 2
    assert "--tenants must be at least 1" in result.stderr
