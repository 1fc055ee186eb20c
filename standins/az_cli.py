"""A test double of the Azure CLI's `az rest`, for testing scripts that call it.

Real `az` is not installable here without signing in to Azure, so tests put an `az` on PATH
that runs `python -m standins.az_cli`. It imitates only what `az rest` does for the grant
script: send `--method` to `--url` with a bearer token for `--resource`, print the JSON answer
(through `--query` JMESPath and `--output json|tsv|none`), and on HTTP 4xx/5xx print
`ERROR: <reason>(<body>)` to stderr and exit 1, as az does. It refuses any host but loopback,
so a test can never reach Azure.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any
from urllib.parse import urlsplit

import httpx
import jmespath

LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def _headers(values: list[str]) -> dict[str, str]:
    joined = " ".join(values)
    if joined.lstrip().startswith("{"):
        return {str(k): str(v) for k, v in json.loads(joined).items()}
    return dict(item.split("=", 1) for item in joined.split())


def _tsv(value: Any) -> str:
    def cell(v: Any) -> str:
        if v is None:
            return ""
        if isinstance(v, bool):
            return str(v).lower()
        if isinstance(v, (dict, list)):
            return "\t".join(cell(x) for x in (v.values() if isinstance(v, dict) else v))
        return str(v)

    rows = value if isinstance(value, list) else [value]
    return "".join(cell(row) + "\n" for row in rows)


def main(argv: list[str]) -> int:
    if not argv or argv[0] != "rest":
        print(f"ERROR: this test double implements only `az rest`, not {argv[:1]}", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(prog="az rest")
    parser.add_argument("--method", "-m", default="get")
    parser.add_argument("--url", "--uri", "-u", required=True)
    parser.add_argument("--body", "-b")
    parser.add_argument("--headers", nargs="+", default=[])
    parser.add_argument("--resource")
    parser.add_argument("--query")
    parser.add_argument("--output", "-o", default="json", choices=["json", "tsv", "none"])
    args = parser.parse_args(argv[1:])

    host = urlsplit(args.url).hostname
    if host not in LOOPBACK:
        print(f"ERROR: test double refuses non-loopback host {host!r}", file=sys.stderr)
        return 2
    headers = {"Authorization": f"Bearer az-test-token-for-{args.resource}"}
    headers.update(_headers(args.headers))
    response = httpx.request(
        args.method.upper(), args.url, headers=headers, content=args.body, timeout=10
    )
    if response.status_code >= 400:
        print(f"ERROR: {response.reason_phrase}({response.text})", file=sys.stderr)
        return 1
    if not response.content or args.output == "none":
        return 0
    result = response.json()
    if args.query:
        result = jmespath.search(args.query, result)
    print(_tsv(result) if args.output == "tsv" else json.dumps(result, indent=2), end="")
    if args.output == "json":
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
