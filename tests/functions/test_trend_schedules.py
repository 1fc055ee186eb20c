"""Trends on real schedules, through the functions as the host drives them: jitter at both ends
of the window, a fetch every 15 minutes, and a history read that stays small however long."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from azure.data.tables import TableServiceClient

from shared.bootstrap import App, use_app
from shared.core.report import Report
from shared.core.snapshot import Snapshot, snapshot_key
from shared.settings import Settings
from shared.stores.snapshots import _snapshot_entity
from standins.reports import report
from tests.conftest import CycleHarness

BETA = "beta/reports/getCredentialUserRegistrationCount"


def serve(cycle: CycleHarness, mfa: int, total: int = 1000) -> None:
    body = report(total, {"mfaRegistered": mfa, "capable": total})
    cycle.graph.report_body = json.dumps(body).encode()


def trend_lines(card: dict) -> list[list[str]]:
    """Each trend row's texts (its sparkline, then its changes), top to bottom."""
    return [
        [column["items"][0]["text"] for column in block["items"][0]["columns"]]
        for block in card["body"]
        if block["type"] == "Container" and block["items"][0]["type"] == "ColumnSet"
    ]


def seed(
    cycle: CycleHarness,
    tenant: str,
    start: datetime,
    end: datetime,
    every: timedelta,
    mfa: Callable[[datetime], int],
) -> int:
    """Snapshots from `start` until before `end`, one each `every`, as the snapshot store writes
    them, in transactions of 100 (thousands of single writes would take half a minute); returns
    how many."""
    entities, when = [], start
    while when < end:
        counts = {"mfaRegistered": mfa(when), "capable": 1000}
        snapshot = Snapshot(snapshot_key(tenant, when), when, Report("r", 1000, counts), BETA)
        entities.append(_snapshot_entity(snapshot))
        when += every
    service = TableServiceClient.from_connection_string(cycle.azurite.connection_string)
    table = service.create_table_if_not_exists(os.environ["SNAPSHOT_TABLE"])
    for first in range(0, len(entities), 100):
        table.submit_transaction([("upsert", e) for e in entities[first : first + 100]])
    return len(entities)


def test_35_daily_runs_a_few_minutes_late_show_a_30_day_change(cycle: CycleHarness) -> None:
    cycle.use_webhook()
    start = cycle.clock.now
    late = [0, 3, 1, 4, 0, 2, 5, 1, 3, 0]  # minutes each run starts late, in turn
    for day in range(35):
        cycle.clock.now = start + timedelta(days=day, minutes=late[day % len(late)], seconds=day)
        serve(cycle, 940 if day == 34 else 960 + day)  # below 95% on the last day only
        cycle.run()

    [card] = cycle.teams.cards
    # 30 days before day 34 is day 4 (964), a week before it day 27 (987): the run 30 days ago
    # started earlier in its hour than today's, the one a week ago later.
    assert trend_lines(card)[0][1] == "7 days -4.7 pts · 30 days -2.4 pts"


@pytest.mark.parametrize(
    "every", [timedelta(days=1), timedelta(minutes=15)], ids=["daily", "15min"]
)
def test_a_fetch_every_15_minutes_gives_the_trends_of_a_daily_one(
    cycle: CycleHarness, every: timedelta
) -> None:
    cycle.use_webhook()
    start, tenant = cycle.clock.now, cycle.identity.tenant_id  # day 0, 06:00
    day0 = start.replace(hour=0, minute=0, second=0, microsecond=0)

    def mfa(when: datetime) -> int:  # one count a UTC day, as the report changes
        return 960 + (when - day0).days

    first = day0 if every < timedelta(days=1) else start
    # Stored before any check ran (as by an earlier version, which kept no series).
    seed(cycle, tenant, first, start + timedelta(days=30) - every, every, mfa)
    # The last two runs through the host: the first builds the series from the snapshots, the
    # second keeps it and posts (below 95% for the first time).
    cycle.clock.now = start + timedelta(days=30) - every
    serve(cycle, mfa(cycle.clock.now))
    cycle.run()
    cycle.clock.now = start + timedelta(days=30)
    serve(cycle, 940)
    cycle.run()

    [card] = cycle.teams.cards
    # Against day 23 (983) and day 0 (960), whichever run of those days is compared.
    assert trend_lines(card)[0] == ["▆▆▇▇▇▇▇▇▇████▁", "7 days -4.3 pts · 30 days -2.0 pts"]


def test_with_1500_snapshots_in_30_days_a_cycle_reads_little(cycle: CycleHarness) -> None:
    cycle.use_webhook()
    start, tenant = cycle.clock.now, cycle.identity.tenant_id
    every = timedelta(days=30) / 1500
    assert seed(cycle, tenant, start, start + timedelta(days=30), every, lambda _: 970) == 1500
    cycle.clock.now = start + timedelta(days=30)
    serve(cycle, 970)
    cycle.run()  # the first check builds the series once from the snapshot table

    requests: list[str] = []
    received: list[int] = []

    def count(response: object) -> None:
        http = response.http_response  # type: ignore[attr-defined]
        requests.append(f"{http.request.method} {http.request.url}")
        received.append(len(http.body()))

    app = App(
        Settings.from_env(os.environ),
        clock=cycle.clock,
        sleep=cycle.clock.sleep,
        storage_options={"retry_total": 1, "raw_response_hook": count},
    )
    use_app(app)
    cycle.clock.advance(minutes=29)
    serve(cycle, 940)
    try:
        cycle.run()  # fetch, store, check: and the check posts, with its trends
    finally:
        app.close()

    assert len(requests) <= 7, "\n".join(requests)
    assert sum(received) < 256 * 1024, sum(received)
    [card] = cycle.teams.cards
    assert trend_lines(card)[0][1] == "7 days -3.0 pts · 30 days -3.0 pts"
