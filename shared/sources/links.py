"""Links Graph hands back (nextLink, a skip token's page): parsed, compared by origin, shown.

A token goes only to GRAPH_ENDPOINT's own scheme, host and port (GraphClient.is_own); what an
error shows of a link is its origin alone, since its query may carry a skip token.
"""

from __future__ import annotations

import httpx


def shown(link: str) -> str:
    """The link's origin only: its query may carry a skip token, which is nobody's business."""
    url = url_of(link)
    if url is None or not url.is_absolute_url:
        return "not an absolute URL"
    return f"{url.scheme}://{url.host}" + (f":{url.port}" if url.port else "")


def url_of(text: str) -> httpx.URL | None:
    """`text` as a URL; None if it is not one."""
    try:
        return httpx.URL(text)
    except (httpx.InvalidURL, TypeError):
        return None


def origin_of(url: httpx.URL | None) -> tuple[str, str, int | None] | None:
    """Scheme, host and port (None for the scheme's default); None if the URL carries user
    info or is not absolute, which never matches GRAPH_ENDPOINT."""
    if url is None or not url.is_absolute_url or url.userinfo:
        return None
    return url.scheme, url.host, url.port
