"""ALERT_NAME_ADMINS=true through the functions, as the host runs them: the firing card names a
few admins without MFA, and no user's name or id rests anywhere, not in a table, not in a queue
message, not in a poison queue, not in a continuation. The check asks Graph for the names just
before it posts; a lookup that fails still posts the card.
"""

from __future__ import annotations

import json
from datetime import timedelta

from shared.errors import NotificationError
from standins.functions_host import Cycle
from standins.graph import DetailsService, RateLimit, graph_error
from standins.loopback import Reply
from standins.registration_details import DOMAIN, SyntheticTenant
from tests.conftest import CycleHarness

# 600 users: a few admins without MFA, all of whom a card may name (at most 5).
TENANT = SyntheticTenant(users=600, seed=3)
USERS = [TENANT.user(index) for index in range(TENANT.users)]
ADMINS = [u for u in USERS if u["isAdmin"] and not u["isMfaRegistered"]]


def name_admins(cycle: CycleHarness, **options: object) -> None:
    cycle.configure(
        TEAMS_WEBHOOK_URL=cycle.teams.webhook_url,
        REPORT_SOURCE="v1",
        THRESHOLDS="adminsWithoutMfa<=0",
        ALERT_NAME_ADMINS="true",
    )
    clock = lambda: cycle.clock().timestamp()  # noqa: E731
    cycle.graph.details = DetailsService(
        TENANT, clock=clock, rate_limit=RateLimit(clock=clock), **options
    )


def at_rest(cycle: CycleHarness, result: Cycle | None = None) -> list[str]:
    """Everything the app left behind: each table entity, each queue message (continuations
    included), each message in a poison queue."""
    tables = [str(e) for setting in ("SNAPSHOT_TABLE", "ALERT_TABLE") for e in cycle.table(setting)]
    messages = [d.message for d in result.deliveries] if result else []
    poisoned = [m for queue in cycle.host.poison.values() for m in queue]
    return tables + messages + poisoned


def who(texts: list[str]) -> set[str]:
    """The UPNs, display names and object ids of the tenant's users found in `texts`."""
    blob = "\n".join(texts)
    found = {f"@{DOMAIN}"} if f"@{DOMAIN}" in blob else set()
    for user in USERS:
        names = (user[key] for key in ("id", "userPrincipalName", "userDisplayName"))
        found |= {name for name in names if name in blob}
    return found


def lookups(cycle: CycleHarness) -> list[dict[str, list[str]]]:
    """The queries of the list requests with a $filter: the names lookups ($count aside)."""
    return [
        r.query
        for r in cycle.graph.details_requests
        if "$filter" in r.query and not r.path.endswith("/$count")
    ]


def test_the_firing_card_names_the_admins_and_no_name_rests_anywhere(cycle: CycleHarness) -> None:
    assert 0 < len(ADMINS) <= 5, "the tenant should have a few admins without MFA"
    name_admins(cycle, max_page_size=50)  # 12 pages
    cycle.app.fetch_budget = timedelta(seconds=15)  # so the pass goes on in ContinueFetch

    result = cycle.run()

    assert [d.queue for d in result.deliveries].count("fetch-continuations") >= 1
    (card,) = cycle.teams.cards
    assert all(admin["userPrincipalName"] in json.dumps(card) for admin in ADMINS)
    assert len(at_rest(cycle, result)) > 3
    assert who(at_rest(cycle, result)) == set()


def test_a_check_that_fails_for_good_leaves_no_name_in_the_poison_queue(
    cycle: CycleHarness,
) -> None:
    name_admins(cycle)
    cycle.teams.script.then(*[Reply(400, "flow refused")] * 20)  # every post fails for good

    result = cycle.run()

    (check,) = [d for d in result.deliveries if d.queue == "snapshots-to-check"]
    assert check.poisoned and check.errors[-1].exception_type == NotificationError.__name__
    assert cycle.host.poison["snapshots-to-check-poison"]
    assert all(admin["userPrincipalName"] in json.dumps(cycle.teams.cards[0]) for admin in ADMINS)
    assert who(at_rest(cycle, result)) == set()


def test_a_names_lookup_that_fails_still_posts_the_card_saying_why(cycle: CycleHarness) -> None:
    refused = graph_error(403, "Authorization_RequestDenied", "Insufficient privileges.")
    name_admins(cycle, filter_failures=[refused] * 5)

    result = cycle.run()

    assert not any(d.poisoned for d in result.deliveries)
    (card,) = cycle.teams.cards
    text = json.dumps(card)
    assert f"Admins without MFA: {len(ADMINS)}, more than 0" in text
    assert "could not be listed" in text and "Authorization_RequestDenied" in text
    assert not any(admin["userPrincipalName"] in text for admin in ADMINS)


def test_a_graph_that_refuses_the_admin_filter_still_names_them(cycle: CycleHarness) -> None:
    name_admins(cycle, refuse_admin_filter=True)

    cycle.run()

    (card,) = cycle.teams.cards
    assert all(admin["userPrincipalName"] in json.dumps(card) for admin in ADMINS)
    assert lookups(cycle)[-1]["$filter"] == ["isMfaRegistered eq false"]


def test_names_are_asked_of_graph_only_for_a_card_that_names_them(cycle: CycleHarness) -> None:
    name_admins(cycle)

    cycle.run()
    cycle.clock.advance(hours=1)  # still firing, no reminder due: nothing to post
    cycle.run()

    assert len(cycle.teams.cards) == 1
    assert len(lookups(cycle)) == 1
