"""Returns a value though function.json has no `$return` binding."""

from __future__ import annotations

import azure.functions as func


def main(timer: func.TimerRequest) -> str:
    return "nowhere to go"
