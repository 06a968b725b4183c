"""Walking a paged list as a reader does: page after page through its rel="next" links."""

from __future__ import annotations

import re


def walk(client, url: str, row: str) -> tuple[list[str], int]:
    """The rows (``row``: a pattern whose first group is a row's id) of every page from ``url`` on, in order, and
    how many pages there were; each page must answer 200."""
    ids: list[str] = []
    pages = 0
    while url:
        page = client.get(url)
        assert page.status_code == 200, page.text[:300]
        ids += re.findall(row, page.text)
        pages += 1
        following = re.search(r'<a rel="next" href="([^"]+)"', page.text)
        url = following.group(1).replace("&amp;", "&") if following else None
    return ids, pages
