"""Every kind of card the app can post, built by the app's own pure code from realistic data.

The renderer test (tests/adapters/test_card_renderer.py) checks each with Microsoft's Adaptive Cards
library; scripts/render-cards draws each at phone and desktop widths. `check_cards` runs
standins/adaptivecards-check.js (node, with the library scripts/install-tools puts in .tools/).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any

from shared.core.alerting import AlertState, Event, Notice, decide_fetch_health, decide_metrics
from shared.core.coverage import missing_statuses, parse_thresholds, readings
from shared.core.report import Report
from shared.core.snapshot import Snapshot, snapshot_key
from shared.core.trends import trends
from shared.messages.adaptive_card import render_card
from shared.messages.coverage import coverage_message
from shared.messages.digest import digest_message
from shared.messages.health import fetch_health_message, source_switch_message
from shared.messages.model import AppLocation

ROOT = Path(__file__).resolve().parent.parent
CHECK_SCRIPT = ROOT / "standins" / "adaptivecards-check.js"
ADAPTIVECARDS_DIST = ROOT / ".tools/adaptivecards/node_modules/adaptivecards/dist"
HOST_CONFIG = ROOT / "standins" / "teams-host-config.json"

NOW = datetime(2026, 11, 23, 6, 0, 4, tzinfo=timezone.utc)
DAY = timedelta(hours=24)
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
THRESHOLDS = parse_thresholds("mfaRegistered=95%,capable=90%")
# What Graph answered for a tenant of 1,250 users, with a status the app has no label for.
TODAY = {
    "registered": 1180,
    "enabled": 1210,
    "capable": 1152,
    "mfaRegistered": 1104,
    "passkeyCapable": 212,
}
# Yesterday's fetch of the same tenant, for the change column and drop notices.
YESTERDAY = {**TODAY, "mfaRegistered": 1200, "capable": 1190, "passkeyCapable": 198}
LOCATION = AppLocation(
    subscription_id="00000000-1111-2222-3333-444444444444",
    resource_group="rg-entra-coverage",
    site_name="entra-coverage-func-x7k2",
)
LONG_ERROR = (
    "GraphError: HTTP 403 from GET /beta/reports/getCredentialUserRegistrationCount: "
    "Authentication_RequestFromNonPremiumTenantOrB2CTenant: Neither tenant is B2C or tenant "
    "doesn't have premium license (request-id 3f1c2a9e-5b7d-4e8f-a1c2-9d8e7f6a5b4c). The tenant "
    "needs Microsoft Entra ID P1 or P2; this is also seen for a while on licensed tenants, and "
    "the next run usually works. " + "Graph said more about it. " * 40
)


# Cards rendered as with CARD_VERSION=1.5: the one kind that then carries a Teams chart.
VERSION_1_5 = ("trends-chart",)


def every_card(location: AppLocation | None = LOCATION) -> dict[str, dict[str, Any]]:
    """name -> the payload the app would POST to the webhook, for every kind of card."""
    return {
        name: render_card(message, location, version="1.5" if name in VERSION_1_5 else "1.4")
        for name, message in every_message().items()
    }


def every_message() -> dict[str, Any]:
    firing_since = NOW - 2 * DAY - timedelta(hours=3)
    told = AlertState(
        "mfaRegistered", firing=True, since=firing_since, told_firing=True, last_told=NOW - DAY
    )
    huge = {f"status{i:03d}Capable": (i * 37) % 1250 for i in range(400)}
    huge_yesterday = {name: min(count + 80, 1250) for name, count in huge.items()}
    return {
        "firing": _coverage(TODAY),
        "reminder": _coverage(TODAY, prior={"mfaRegistered": told}),
        "resolved": _coverage(
            {**TODAY, "mfaRegistered": 1200, "capable": 1190}, prior={"mfaRegistered": told}
        ),
        "drop": _coverage(
            {**TODAY, "mfaRegistered": 1200, "capable": 1140}, previous=YESTERDAY, drop=3
        ),
        "several": _coverage(
            {**TODAY, "capable": 1000}, previous=YESTERDAY, drop=3, prior={"mfaRegistered": told}
        ),
        "zero-users": _coverage({"mfaRegistered": 0, "capable": 0}, total=0, force=True),
        # Microsoft's example: registered above the total (which counts enabled users only).
        "above-total": _coverage(
            {"registered": 23423, "enabled": 4234, "capable": 323, "mfaRegistered": 33},
            total=23123,
        ),
        # THRESHOLDS names a status the report lacks; and a firing metric Graph stopped sending.
        "not-checked": _coverage(
            {k: v for k, v in TODAY.items() if k != "mfaRegistered"},
            prior={"mfaRegistered": told},
        ),
        "huge-report": _coverage(
            {**TODAY, **huge}, previous={**YESTERDAY, **huge_yesterday}, drop=5
        ),
        # A maximum (v1.0 source): admins without MFA, named with ALERT_NAME_ADMINS=true.
        "admins-without-mfa": _coverage(
            {**TODAY, "mfaRegistered": 1200, "capable": 1190, "adminsWithoutMfa": 3},
            maximums={"adminsWithoutMfa": 0},
            admin_names=("ops-admin@contoso.example", "legacy.svc.admin@contoso.example"),
        ),
        **_fetch_health(),
        "source-switch": source_switch_message(
            "Graph refused the report request (HTTP 404, code=Request_ResourceNotFound, "
            "request-id=5b7d3f1c-2a9e-4e8f-a1c2-9d8e7f6a5b4c)",
            NOW,
        ),
        # With a month of daily history: the 7- and 30-day change and a sparkline per metric.
        "trends": _coverage(TODAY, previous=YESTERDAY, history=_month(TODAY)),
        # The same with CARD_VERSION=1.5: a line chart of the thresholded metrics, 30 days.
        "trends-chart": _coverage(TODAY, previous=YESTERDAY, history=_month(TODAY)),
        **_digests(),
    }


def _month(today: Mapping[str, int]) -> list[Snapshot]:
    """31 daily snapshots, newest first: MFA slipping 4 users a day, capable steady, passkeys
    rising; the newest is today's."""
    snapshots = []
    for days_ago in range(31):
        when = NOW - days_ago * DAY
        counts = {
            **today,
            "mfaRegistered": today["mfaRegistered"] + 4 * days_ago,
            "passkeyCapable": max(today["passkeyCapable"] - 3 * days_ago, 0),
        }
        snapshots.append(Snapshot(snapshot_key(TENANT, when), when, Report("r", 1250, counts)))
    return snapshots


def _digests() -> dict[str, Any]:
    history = _month(TODAY)
    newest = history[0]
    current = readings(newest.report, THRESHOLDS, history[1].report)
    quiet = _month({**TODAY, "mfaRegistered": 1200, "capable": 1190})
    week_ago = NOW - 7 * DAY
    return {
        "digest": digest_message(
            now=NOW + timedelta(hours=2),
            newest=quiet[0],
            readings=readings(quiet[0].report, THRESHOLDS, quiet[1].report),
            trends=trends(quiet),
            states={},
            fetch_health=None,
        ),
        # Below its threshold since Thursday, one resolved on Tuesday, and fetching failing.
        "digest-firing": digest_message(
            now=NOW + timedelta(hours=2),
            newest=newest,
            readings=current,
            trends=trends(history),
            states={
                "mfaRegistered": AlertState(
                    "mfaRegistered",
                    firing=True,
                    since=NOW - 4 * DAY,
                    told_firing=True,
                    last_told=NOW - DAY,
                ),
                "capable": AlertState(
                    "capable", since=week_ago + 2 * DAY, last_told=week_ago + 2 * DAY
                ),
            },
            fetch_health=AlertState(
                "fetch", firing=True, since=NOW + timedelta(hours=1), detail=LONG_ERROR
            ),
        ),
    }


def _coverage(
    counts: Mapping[str, int],
    *,
    total: int = 1250,
    previous: Mapping[str, int] | None = None,
    drop: int | None = None,
    prior: dict[str, AlertState] | None = None,
    force: bool = False,
    maximums: Mapping[str, int] | None = None,
    admin_names: tuple[str, ...] = (),
    history: list[Snapshot] | None = None,
) -> Any:
    report = Report("2026-11-23T06:00:04Z", total, dict(counts))
    snapshot = Snapshot(snapshot_key(TENANT, NOW), NOW, report)
    before = Report("r", total, dict(previous)) if previous else None
    current = readings(snapshot.report, THRESHOLDS, before, maximums)
    events = decide_metrics(
        prior or {},
        current,
        now=NOW,
        repeat=DAY,
        drop_points=Fraction(drop) if drop is not None else None,
        detail="",
        missing=missing_statuses(report, THRESHOLDS, maximums),
    ).events
    if force:  # a zero-user report never fires by itself; show how its table would read
        events = [Event(Notice.FIRING, AlertState("mfaRegistered"), current[0], started=NOW)]
    assert events, "every gallery card has something to say"
    return coverage_message(snapshot, current, events, admin_names, trends(history or []))


def _fetch_health() -> dict[str, Any]:
    error = "CredentialError: ManagedIdentityCredential: no token (IDENTITY_ENDPOINT unreachable)"
    [failing] = decide_fetch_health(None, error=error, now=NOW, repeat=DAY).events
    state = decide_fetch_health(None, error=error, now=NOW - DAY, repeat=DAY).delivered(NOW - DAY)
    [still] = decide_fetch_health(state["fetch"], error=LONG_ERROR, now=NOW, repeat=DAY).events
    [works] = decide_fetch_health(state["fetch"], error=None, now=NOW, repeat=DAY).events
    return {
        "fetch-failing": fetch_health_message(failing, NOW + timedelta(minutes=10)),
        "fetch-still-failing": fetch_health_message(still, NOW),
        "fetch-works-again": fetch_health_message(works, NOW),
    }


def check_cards(payloads: Mapping[str, Any]) -> dict[str, list[str]]:
    """name -> every problem the Adaptive Cards library finds in that payload (none: clean)."""
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is needed to check cards (scripts/install-tools says how)")
    if not ADAPTIVECARDS_DIST.is_dir():
        raise RuntimeError(f"{ADAPTIVECARDS_DIST} is missing: run scripts/install-tools")
    # A fixed argv: node and a script of this repository; the cards go through stdin.
    result = subprocess.run(
        [node, str(CHECK_SCRIPT)],
        input=json.dumps(payloads),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"{CHECK_SCRIPT.name} failed: {result.stderr.strip()}")
    report: dict[str, list[str]] = json.loads(result.stdout)
    return report
