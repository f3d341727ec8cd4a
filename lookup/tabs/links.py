"""Links to the dashboard's own pages, and the one builder of a customer's URLs."""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.urls import get_script_prefix, reverse

from lookup.capillary import CustomerQuery
from lookup.tabs.options import PageOptions, option_params

DEFAULT_TAB = "profile"


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


@dataclass(frozen=True)
class CustomerLinks:
    """Every URL of one customer as one viewer opened it: page, tabs, projection, reveal, images.

    Each carries the same parameters naming the customer (source, accountId when given,
    org as the viewer gave it), and the page and tab URLs the page options in effect.
    """

    query: CustomerQuery
    options: PageOptions = PageOptions()
    org_param: str = ""  # the `org` URL parameter as given ("" when the user has one org)

    def params(self) -> tuple[tuple[str, str], ...]:
        """Return the URL parameters naming the customer: source, accountId, org."""
        pairs = [("source", self.query.source)]
        if self.query.account_id:
            pairs.append(("accountId", self.query.account_id))
        if self.org_param:
            pairs.append(("org", self.org_param))
        return tuple(pairs)

    def _options(self, changes: dict[str, Any]) -> tuple[tuple[str, str], ...]:
        options = dataclasses.replace(self.options, **changes) if changes else self.options
        return tuple(option_params(options))

    def tab_path(self, slug: str) -> str:
        """Return the tab's URL without parameters (a form's action; the form sends them)."""
        return link("customer-tab", (self.query.customer_id, slug))

    def tab(self, slug: str, *, refresh: bool = False, **changes: Any) -> str:
        """Return the tab's URL keeping the options, with `changes` (PageOptions fields) applied."""
        pairs = self.params() + self._options(changes)
        if refresh:
            pairs += (("refresh", "1"),)
        return link("customer-tab", (self.query.customer_id, slug), pairs)

    def page(self, *, refresh: bool = False, tab: str = "", **changes: Any) -> str:
        """Return the whole page's URL keeping the options, opened on `tab`."""
        pairs = self.params() + self._options(changes)
        if tab and tab != DEFAULT_TAB:
            pairs += (("tab", tab),)
        if refresh:
            pairs += (("refresh", "1"),)
        return link("customer", (self.query.customer_id,), pairs)

    def reveal(self) -> str:
        """Return the URL a Reveal form posts to."""
        return link("reveal", (self.query.customer_id,), self.params())

    def panel(self, name: str, *pairs: tuple[str, str], refresh: bool = False) -> str:
        """Return the URL of one Activity panel, with filter `pairs`."""
        more = (("refresh", "1"),) if refresh else ()
        return link("activity-panel", (self.query.customer_id, name), self.params() + pairs + more)

    def image(self, kind: str, index: int) -> str:
        """Return the dashboard URL that shows one customer or associated image."""
        return link("customer-image", (self.query.customer_id, kind, index), self.params())
