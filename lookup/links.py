"""Links to the dashboard's own pages, built once per distinct link."""

from __future__ import annotations

import functools
from urllib.parse import urlencode

from django.urls import get_script_prefix, reverse


def link(name: str, args: tuple = (), pairs: tuple[tuple[str, str], ...] = ()) -> str:
    """Return reverse(name, args), with "?" and the query pairs when there are any.

    A customer page links every tab, refresh, option and Reveal (about fifteen links); the
    same links come back on every view of the customer, so each is built once (per script
    prefix, which reverse() also depends on).
    """
    return _built(get_script_prefix(), name, args, pairs)


@functools.lru_cache(maxsize=4096)
def _built(prefix: str, name: str, args: tuple, pairs: tuple[tuple[str, str], ...]) -> str:
    path = reverse(name, args=list(args))
    return f"{path}?{urlencode(pairs)}" if pairs else path
