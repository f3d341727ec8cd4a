"""Resolving what the search box read to customers: which sources to ask, and what came back."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.http import QueryDict

from lookup import tabs
from lookup.capillary import (
    BadRequest,
    CapillaryError,
    CustomerMerged,
    CustomerNotFound,
    CustomerQuery,
    IdentifierQuery,
    InvalidQuery,
)
from lookup.models import Org
from lookup.privacy import mask_for
from lookup.search.classify import Reading
from lookup.services import identify

# Sources a "search every source" org asks, besides its default; multi-account sources
# are asked only with the org's default account ID.
EVERY_SOURCE = ("INSTORE", "MARTJACK", "WECHAT", "LINE")
MULTI_ACCOUNT = ("WECHAT", "LINE")
# Capillary's codes for a lookup that names the wrong field.
INVALID_IDENTIFIER = 8013
ACCOUNT_MISSING = 8045


@dataclass(frozen=True)
class Choice:
    """One customer a search found, with what tells it apart from the others."""

    customer_id: int
    source: str
    account_id: str = ""
    name: str = ""
    tier: str = ""
    updated: datetime | None = None
    matched: str = ""  # the identifier that matched, as this viewer may see it
    matched_kind: str = ""


@dataclass
class Result:
    """What a search found: the choices, and each source's failure."""

    reading: Reading
    sources: list[str]
    choices: list[Choice] = field(default_factory=list)
    errors: list[tuple[str, CapillaryError]] = field(default_factory=list)

    @property
    def merged(self) -> CustomerMerged | None:
        return next((e for _s, e in self.errors if isinstance(e, CustomerMerged)), None)

    @property
    def failure(self) -> CapillaryError | None:
        """Return the first failure that is not an answer about the customer."""
        answers = (CustomerNotFound, CustomerMerged, BadRequest)
        return next((e for _s, e in self.errors if not isinstance(e, answers)), None)

    @property
    def field_error(self) -> tuple[str, str] | None:
        """Return (field, message) when Capillary refused the identifier or the account."""
        for _source, error in self.errors:
            if isinstance(error, BadRequest) and error.code == INVALID_IDENTIFIER:
                return "q", f"Capillary does not accept this {self.reading.label} as an identifier."
            if isinstance(error, BadRequest) and error.code == ACCOUNT_MISSING:
                return "accountId", "This source needs an account ID."
        return None


def page_parts(source: str, account_id: str) -> dict[str, CustomerQuery]:
    """Return the parts the customer page shows first, for any customer in that source."""
    base = CustomerQuery(customer_id=1, source=source, account_id=account_id)
    names = [*tabs.HEADER_PARTS, *tabs.TAB_BY_SLUG[tabs.DEFAULT_TAB].parts]
    return tabs.part_queries(base, names, tabs.parse_options(QueryDict()))


def sources_to_ask(org: Org, source: str, account_id: str, allowed: set[str] | None) -> list[str]:
    """Return the sources a search asks: the chosen one, or every source the viewer may see."""
    if not org.search_every_source:
        return [source]
    asked = [source, *(s for s in EVERY_SOURCE if s != source)]
    return [
        s
        for s in asked
        if (allowed is None or s in allowed) and (s not in MULTI_ACCOUNT or account_id)
    ]


def _choice(match: identify.Match, reading: Reading) -> Choice:
    customer = match.customer
    profile = next((p for p in customer.profiles if p.source == match.source), None)
    profile = profile or (customer.profiles[0] if customer.profiles else None)
    programs = customer.all_programs
    attribution = profile.attribution if profile is not None else None
    return Choice(
        customer_id=match.customer_id,
        source=match.source,
        account_id=match.account_id,
        name=customer.display_name,
        tier=", ".join(dict.fromkeys(p.current_slab for p in programs if p.current_slab)),
        updated=attribution.modified_date if attribution is not None else None,
        matched=reading.value,
        matched_kind=reading.kind,
    )


def find(org: Org, reading: Reading, sources: Iterable[str], account_id: str) -> Result:
    """Ask each source for the identifier (at once when several) and gather the customers."""
    sources = list(sources)
    result = Result(reading, sources)
    asked = []
    for source in sources:
        account = account_id if source in MULTI_ACCOUNT else ""
        try:
            asked.append(IdentifierQuery(reading.kind, reading.value, source, account))
        except InvalidQuery as exc:
            result.errors.append((source, BadRequest(exc.message, code=INVALID_IDENTIFIER)))
    if not asked:
        return result
    parts = {q.source: page_parts(q.source, q.account_id) for q in asked}
    if len(asked) == 1:
        outcomes = [identify.outcome(org, asked[0], parts[asked[0].source])]
    else:
        outcomes = identify.lookup_everywhere(org, [(q, parts[q.source]) for q in asked])
    seen = set()
    for query, outcome in zip(asked, outcomes, strict=True):
        if isinstance(outcome, CapillaryError):
            result.errors.append((query.source, outcome))
        elif outcome.customer_id not in seen:
            # One customer found in several sources is one match, in the first source asked.
            seen.add(outcome.customer_id)
            result.choices.append(_choice(outcome, reading))
    return result


def find_by_name(org: Org, reading: Reading, limit: int = 10) -> Result:
    """Ask Capillary's customer search for names starting with the text."""
    result = Result(reading, ["ALL"])
    try:
        page = identify.search_names(org, reading.value, limit)
    except CapillaryError as exc:
        result.errors.append(("ALL", exc))
        return result
    for hit in page.hits:
        matched = next((m for m in hit.matched if m.kind not in ("firstName", "lastName")), None)
        result.choices.append(
            Choice(
                customer_id=hit.customer_id,
                source=hit.sources[0] if hit.sources else "INSTORE",
                name=hit.name,
                matched=matched.value if matched else "",
                matched_kind=matched.kind if matched else "",
            )
        )
    return result


def masked_choices(choices: list[Choice], sees_pii: bool) -> list[Choice]:
    """Return the choices as the viewer sees the customer page: identifiers masked for a
    viewer who may not see personal data (names are shown, as in the page's header)."""
    if sees_pii:
        return choices
    return [
        dataclasses.replace(c, matched=mask_for(c.matched_kind, c.matched) if c.matched else "")
        for c in choices
    ]
