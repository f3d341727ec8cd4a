"""Lookup by identifier and name search: validated queries and typed search results."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from lookup.capillary.query import SOURCES, InvalidQuery

# What Capillary's lookup APIs accept as identifierName (README §4.1).
IDENTIFIER_NAMES = ("mobile", "email", "externalId", "cardnumber", "cardExternalId")
MAX_VALUE_LENGTH = 128
SEARCH_MAX_LIMIT = 100
_ACCOUNT_RE = re.compile(r"[A-Za-z0-9_.\-]{0,64}")


@dataclass(frozen=True)
class IdentifierQuery:
    """One identifier to look a customer up by, in one source (and account)."""

    name: str
    value: str
    source: str = "INSTORE"
    account_id: str = ""

    def __post_init__(self) -> None:
        if self.name not in IDENTIFIER_NAMES:
            raise InvalidQuery(
                "identifier", f"Capillary cannot look customers up by {self.name!r}."
            )
        if not isinstance(self.value, str) or not self.value.strip():
            raise InvalidQuery("identifier", "Enter what to search for.")
        if len(self.value) > MAX_VALUE_LENGTH or not self.value.isprintable():
            raise InvalidQuery(
                "identifier", "That is too long or has characters no identifier has."
            )
        if self.source not in SOURCES:
            raise InvalidQuery("source", f"Source must be one of {', '.join(SOURCES)}.")
        if not _ACCOUNT_RE.fullmatch(self.account_id):
            raise InvalidQuery(
                "account_id",
                "Account ID may have at most 64 letters, digits, dots, dashes or underscores.",
            )

    def params(self) -> list[tuple[str, str]]:
        """Return the lookup parameters, in the documented order."""
        out = [("source", self.source)]
        if self.account_id:
            out.append(("accountId", self.account_id))
        out += [("identifierName", self.name), ("identifierValue", self.value)]
        return out


@dataclass(frozen=True)
class SearchMatch:
    """What a name search matched: the field, its value, and where."""

    kind: str
    value: str
    source: str
    account_id: str


@dataclass(frozen=True)
class SearchHit:
    """One customer a name search found."""

    customer_id: int
    names: tuple[tuple[str, str, str], ...]  # (source, first name, last name) per profile
    matched: tuple[SearchMatch, ...]

    @property
    def name(self) -> str:
        for _source, first, last in self.names:
            full = f"{first} {last}".strip()
            if full:
                return full
        return ""

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(source for source, _f, _l in self.names))


@dataclass(frozen=True)
class SearchPage:
    """A page of name search results and how many there are in all."""

    hits: tuple[SearchHit, ...]
    total: int

    @classmethod
    def from_raw(cls, body: Any) -> SearchPage:
        """Parse `GET /v2/customers/search`, skipping entries that are not customers."""
        data = body.get("data") if isinstance(body, dict) else None
        hits = []
        for item in data if isinstance(data, list) else []:
            if not isinstance(item, dict):
                continue
            user_id = item.get("userId")
            if isinstance(user_id, str) and user_id.strip().isdigit():
                user_id = int(user_id)
            if type(user_id) is not int or user_id <= 0:
                continue
            profiles = [p for p in item.get("profiles") or [] if isinstance(p, dict)]
            matched = [m for m in item.get("matchedIdentifiers") or [] if isinstance(m, dict)]
            hits.append(
                SearchHit(
                    customer_id=user_id,
                    names=tuple(
                        (
                            _text(p.get("source")),
                            _text(p.get("firstName")),
                            _text(p.get("lastName")),
                        )
                        for p in profiles
                    ),
                    matched=tuple(
                        SearchMatch(
                            _text(m.get("idType")),
                            _text(m.get("idValue")),
                            _text(m.get("source")),
                            _text(m.get("accountId")),
                        )
                        for m in matched
                    ),
                )
            )
        pagination = body.get("pagination") if isinstance(body, dict) else None
        total = pagination.get("total") if isinstance(pagination, dict) else None
        return cls(tuple(hits), total if type(total) is int else len(hits))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""
