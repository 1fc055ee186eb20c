"""Serve the Graph, managed-identity and Teams stand-ins for `func start`, until stopped.

Core Tools runs the app from local.settings.json; this writes one that points the app at the
stand-ins (all on 127.0.0.1), then serves them:

- GRAPH_ENDPOINT: a Graph stand-in with a realistic report (MFA registration at 88.3%, below
  the default 95% threshold, so the first check posts a card);
- IDENTITY_ENDPOINT, IDENTITY_HEADER: the managed-identity stand-in, in the App Service
  protocol that azure-identity's ManagedIdentityCredential speaks when these are set (the app
  then uses it, as in Azure);
- TEAMS_WEBHOOK_URL: a Teams Workflows stand-in that answers 202; every card it receives is
  written to --cards as card-<n>.json, and its title printed;
- AzureWebJobsStorage: --storage, by default `UseDevelopmentStorage=true` (Azurite on its
  default ports, which Core Tools' triggers and the app's tables both use).

The other values are local.settings.example.json's; `--set NAME=VALUE` overrides any. An
existing settings file is never overwritten (yours may hold a real webhook).

    python -m standins.serve --settings local.settings.json --cards .cards/received
    python -m standins.serve ... --until-card 300   # exit 0 at the first card, 1 after 300 s

The workflow's `func-start` job runs it this way; tests/functions/test_serve.py starts it the
same way.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from standins.graph import GraphStandIn
from standins.managed_identity import ManagedIdentityStandIn
from standins.teams import WEBHOOK_PATH, TeamsStandIn

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "local.settings.example.json"
POLL_SECONDS = 0.2


def settings_values(
    *,
    graph: GraphStandIn,
    identity: ManagedIdentityStandIn,
    teams: TeamsStandIn,
    storage: str,
    overrides: dict[str, str],
) -> dict[str, str]:
    """local.settings.example.json's values, pointed at the stand-ins, then `overrides`."""
    values: dict[str, str] = json.loads(EXAMPLE.read_text())["Values"]
    values.update(
        AzureWebJobsStorage=storage,
        GRAPH_ENDPOINT=graph.url,
        TEAMS_WEBHOOK_URL=teams.webhook_url,
        **identity.environ,
    )
    values.update(overrides)
    return values


def card_title(card: dict[str, Any]) -> str:
    """The first text in the card's body: its title, for the log."""
    pending: list[Any] = list(card.get("body", []))
    while pending:
        element = pending.pop(0)
        if isinstance(element, dict):
            if isinstance(element.get("text"), str):
                return str(element["text"])
            pending[:0] = [v for v in element.values() if isinstance(v, (list, dict))]
        elif isinstance(element, list):
            pending[:0] = element
    return "(a card without text)"


def _setting(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"--set wants NAME=VALUE, not {text!r}")
    return name, value


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM (the job's end, `kill`) stops the servers like Ctrl-C


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m standins.serve", description=__doc__)
    parser.add_argument("--settings", type=Path, required=True, help="local.settings.json to write")
    parser.add_argument("--cards", type=Path, help="write each card received here")
    parser.add_argument("--storage", default="UseDevelopmentStorage=true")
    parser.add_argument("--set", type=_setting, action="append", default=[], metavar="NAME=VALUE")
    parser.add_argument("--until-card", type=float, metavar="SECONDS")
    args = parser.parse_args(argv)
    if args.settings.exists():
        parser.error(f"{args.settings} exists: not overwritten (move it away first)")
    signal.signal(signal.SIGTERM, _stop)
    with GraphStandIn() as graph, ManagedIdentityStandIn() as identity, TeamsStandIn() as teams:
        values = settings_values(
            graph=graph,
            identity=identity,
            teams=teams,
            storage=args.storage,
            overrides=dict(args.set),
        )
        partial = args.settings.with_name(args.settings.name + ".partial")
        partial.write_text(json.dumps({"IsEncrypted": False, "Values": values}, indent=2) + "\n")
        os.replace(partial, args.settings)  # whole or absent: the job waits for the file
        # Neither IDENTITY_HEADER nor the webhook's query (its sig) is printed.
        print(f"Graph stand-in:            {graph.url}", flush=True)
        print(f"managed-identity stand-in: {identity.environ['IDENTITY_ENDPOINT']}", flush=True)
        print(f"Teams stand-in:            {teams.url}{WEBHOOK_PATH}", flush=True)
        print(f"wrote {args.settings}: serving until stopped", flush=True)
        if args.cards:
            args.cards.mkdir(parents=True, exist_ok=True)
        deadline = None if args.until_card is None else time.monotonic() + args.until_card
        seen = 0
        try:
            while deadline is None or time.monotonic() < deadline:
                cards = teams.cards
                for card in cards[seen:]:
                    seen += 1
                    if args.cards:
                        (args.cards / f"card-{seen}.json").write_text(json.dumps(card, indent=2))
                    print(f"card {seen} received: {card_title(card)}", flush=True)
                if seen and args.until_card is not None:
                    return 0
                time.sleep(POLL_SECONDS)
        except KeyboardInterrupt:
            return 0
    print(f"no card reached the Teams stand-in within {args.until_card:g} s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
