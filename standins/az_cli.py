"""A test double of the Azure CLI that imitates only `az rest`, for testing scripts that call it.

The real Azure CLI was not available on the machine this was written on (and would need an Azure
sign-in), so tests put an `az` on PATH that runs `python -m standins.az_cli "$@"`. It does what
`az rest` does for infra/grant-reports-read-all.sh, following azure-cli's `send_raw_request` and
knack's output formatters:

- send `--method` to `--url` with `--body` and `--headers` (each `KEY=VALUE` or a JSON object);
  a body that parses as JSON gets `Content-Type: application/json` unless a header sets one;
- add `Authorization: Bearer <token>` only when `--resource` is given (a loopback URL matches no
  cloud endpoint, so real az would not guess one). Unlike real az, which adds a token to https
  URLs only, it adds it to the plain-http loopback URL too, since the stand-ins do not speak TLS;
- print the JSON answer through `--query` (JMESPath) as `--output json|tsv|none`, the way knack
  prints: a null result prints nothing; in tsv a null *inside* a list prints `None`;
- on HTTP >= 400 print `ERROR: <reason>(<body>)` to stderr and exit 1, as az does
  (`ERROR: Forbidden({"error":{"code":"Authorization_RequestDenied",...}})`).

It refuses any host but loopback (exit 2, before sending anything), so a test can never reach
Azure. It sends with the standard library's http.client, not httpx: a script run starts this
double several times, and importing httpx took ~0.3 s of each start (http.client: ~0.03 s).
With AZ_CLI_DOUBLE_LOG set, it appends each invocation's arguments to that file as a JSON line,
for tests to assert on every call a script made.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
from collections import OrderedDict
from typing import Any
from urllib.parse import urlsplit

import jmespath

LOOPBACK = {"127.0.0.1", "::1", "localhost"}
LOG_ENV = "AZ_CLI_DOUBLE_LOG"


def _headers(values: list[str]) -> dict[str, str]:
    """`--headers` as azure-cli reads it: each value a JSON object or KEY=VALUE."""
    headers: dict[str, str] = {}
    for value in values:
        try:
            parsed = json.loads(value)
        except ValueError:
            key, _, val = value.partition("=")
            headers[key] = val
        else:
            headers.update({str(k): str(v) for k, v in parsed.items()})
    return headers


def _has(headers: dict[str, str], name: str) -> bool:
    return any(k.lower() == name.lower() for k in headers)


def _tsv_cell(value: Any) -> str:
    if isinstance(value, list):
        return str(len(value))  # knack prints a nested list's length, not its items
    if isinstance(value, dict):
        return ""
    return value if isinstance(value, str) else str(value)  # None -> "None", True -> "True"


def _tsv_row(value: Any) -> str:
    if isinstance(value, OrderedDict):  # a JMESPath multi-select hash keeps its order
        cells = list(value.values())
    elif isinstance(value, dict):  # a dict from the response: sorted by key
        cells = [v for _, v in sorted(value.items())]
    elif isinstance(value, list):
        cells = value
    elif isinstance(value, bool):
        return str(value).lower() + "\n"
    else:
        return _tsv_cell(value) + "\n"
    return "\t".join(_tsv_cell(c) for c in cells) + "\n"


def tsv(result: Any) -> str:
    """knack's `-o tsv`: each item of a top-level list (or the one value) on its own row."""
    rows = result if isinstance(result, list) else [result]
    return "".join(_tsv_row(row) for row in rows)


def _send(
    method: str, url: str, headers: dict[str, str], body: str | None
) -> tuple[int, str, bytes]:
    """One plain-http request to a loopback URL (checked by the caller), as az would send it:
    the status, the reason phrase and the body. (A tuple: importing dataclasses costs ~10 ms of
    every start.)"""
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port or 80, timeout=10)
    try:
        payload = body.encode() if body else None
        connection.request(method, target or "/", body=payload, headers=headers)
        response = connection.getresponse()
        return response.status, response.reason, response.read()
    finally:
        connection.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="az rest")
    parser.add_argument("--method", "-m", default="get")
    parser.add_argument("--url", "--uri", "-u", required=True)
    parser.add_argument("--body", "-b")
    parser.add_argument("--headers", nargs="+", default=[])
    parser.add_argument("--resource")
    parser.add_argument("--query")
    parser.add_argument(
        "--output", "-o", default="json", type=str.lower, choices=["json", "tsv", "none"]
    )
    return parser


def main(argv: list[str]) -> int:
    if os.environ.get(LOG_ENV):
        with open(os.environ[LOG_ENV], "a", encoding="utf-8") as log:
            log.write(json.dumps(argv) + "\n")
    if not argv or argv[0] != "rest":
        print(f"ERROR: this test double imitates only `az rest`, not {argv[:1]}", file=sys.stderr)
        return 2
    args = _parser().parse_args(argv[1:])

    host = urlsplit(args.url).hostname
    if host not in LOOPBACK:
        print(f"ERROR: the az test double refuses non-loopback host {host!r}", file=sys.stderr)
        return 2
    headers = _headers(args.headers)
    if args.body:
        try:
            json.loads(args.body)
        except ValueError:
            pass
        else:
            if not _has(headers, "Content-Type"):
                headers["Content-Type"] = "application/json"
    if _has(headers, "Authorization"):
        pass  # az sends the caller's own Authorization header instead of a token
    elif args.resource:
        headers["Authorization"] = f"Bearer az-double-token-for-{args.resource}"
    else:
        print(
            "WARNING: Can't derive appropriate Azure AD resource from --url to acquire an access"
            " token. If access token is required, use --resource to specify the resource",
            file=sys.stderr,
        )

    status, reason, content = _send(args.method.upper(), args.url, headers, args.body)
    text = content.decode("utf-8", errors="replace")
    if status >= 400:
        print(f"ERROR: {reason}" + (f"({text})" if text else ""), file=sys.stderr)
        return 1
    if not content:
        return 0
    try:
        result: Any = json.loads(content)
    except ValueError:
        print("WARNING: Not a json response, outputting to stdout.", file=sys.stderr)
        print(text)
        return 0
    if args.query:
        result = jmespath.search(args.query, result, jmespath.Options(dict_cls=OrderedDict))
    if result is None or args.output == "none":
        return 0  # knack prints nothing for a null result
    if args.output == "tsv":
        print(tsv(result), end="")
    else:
        print(json.dumps(result, ensure_ascii=False, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
