"""FetchReport's bindings with `check: str` where the worker requires `func.Out[str]`."""

from __future__ import annotations

import azure.functions as func


def main(timer: func.TimerRequest, check: str) -> None:
    pass
