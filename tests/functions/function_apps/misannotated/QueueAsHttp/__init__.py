"""A queue trigger annotated as an HTTP request."""

from __future__ import annotations

import azure.functions as func


def main(msg: func.HttpRequest) -> None:
    pass
