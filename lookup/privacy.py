"""What of a customer's personal data a viewer may see (masking with audited reveal).

Views pass every fetched part through `prepare_parts` before anything reaches a
template. For a viewer whose role does not see personal data, each CustomerData is
replaced by a masked copy: its raw JSON is walked and every personal value
(identifiers, comm channels, card numbers, dates of birth, names and contacts in
extended or custom fields) becomes a `Masked` string, and the typed records are
rebuilt from that JSON. So the clear value reaches no template, raw JSON view,
title or URL. Each `Masked` carries a signed reference (`ref`) to where the value
sits, which the reveal endpoint resolves for roles allowed to reveal.
"""

from __future__ import annotations

import dataclasses
import json
import re
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from django.core import signing

from lookup import roles
from lookup.capillary import CapillaryError
from lookup.inputs import whole_number
from lookup.lru import LRU

SALT = "lookup.privacy.reveal"
REF_MAX_AGE = 3600  # seconds a page's reveal references stay valid

# Keys of extended/custom fields that hold personal data (names, birthdays, contacts).
PERSONAL_KEY = re.compile(
    r"name|dob|birth|anniv|mobile|phone|email|mail|address|addr|pin_?code|zip|postcode|"
    r"spouse|pan|aadhaar|aadhar|passport|national|ssn|tax|license|licence|vehicle",
    re.IGNORECASE,
)
FIELD_BLOCKS = ("extendedFields", "fields", "allFields", "customFields")
IDENTIFIER_LISTS = ("identifiers", "identifiersAll", "commChannels")
CARD_KEYS = ("cardNumber", "cardExternalId")


class Masked(str):
    """A masked value: prints masked everywhere, and knows where its clear value is."""

    kind: str = ""
    _ref: str = ""
    _make_ref: Callable[[], str] | None = None

    def __new__(
        cls,
        masked: str,
        *,
        ref: str = "",
        kind: str = "",
        make_ref: Callable[[], str] | None = None,
    ) -> Masked:
        value = super().__new__(cls, masked)
        value._ref = ref
        value._make_ref = make_ref
        value.kind = kind
        return value

    @property
    def ref(self) -> str:
        """Return the signed reference, signing it on first use (most are never shown)."""
        if not self._ref and self._make_ref is not None:
            self._ref, self._make_ref = self._make_ref(), None
        return self._ref

    def __str__(self) -> str:
        return self  # keep the ref through str() (the typed records call it)

    def __reduce__(self):  # noqa: ANN204 - pickles (cache) as the masked text only
        return (str, (str.__str__(self),))


# Masking formats -----------------------------------------------------------------------


def mask_mobile(value: str) -> str:
    """Return "+91 ******2345" for 919876512345; the country code and last 4 digits stay."""
    digits = re.sub(r"\D", "", value)
    if len(digits) < 7:
        return "******"
    code = digits[:-10] if len(digits) > 10 else ""
    return (f"+{code} " if code else "") + "******" + digits[-4:]


def mask_email(value: str) -> str:
    """Return "j***@example.com"."""
    local, at, domain = value.partition("@")
    if not at:
        return mask_generic(value)
    return f"{local[:1]}***@{domain}"


def mask_tail(value: str, keep: int = 4) -> str:
    """Return stars and the last `keep` characters (card and external IDs)."""
    value = value.strip()
    if len(value) <= keep * 2:
        return "*" * max(len(value), 4)
    return "*" * min(len(value) - keep, 12) + value[-keep:]


def mask_generic(value: str) -> str:
    """Return the first character and stars ("T***"), for names and other fields."""
    value = value.strip()
    return f"{value[:1]}***" if len(value) > 1 else "***"


def mask_date(value: str) -> str:
    return "****-**-**"


def mask_for(kind: str, value: str) -> str:
    kind = kind.lower()
    if kind in ("mobile", "phone", "whatsapp", "sms"):
        return mask_mobile(value)
    if kind == "email":
        return mask_email(value)
    if kind in ("dob", "date"):
        return mask_date(value)
    if kind in ("name", "field"):
        return mask_generic(value)
    return mask_tail(value)


def _field_kind(key: str) -> str:
    lowered = key.lower()
    if "mail" in lowered:
        return "email"
    if "mobile" in lowered or "phone" in lowered:
        return "mobile"
    if "dob" in lowered or "birth" in lowered or "anniv" in lowered:
        return "dob"
    return "field"


# Walking the JSON ----------------------------------------------------------------------


@dataclasses.dataclass
class _Walker:
    make_ref: Any  # Callable[[list], str]
    clear: dict[str, str] = dataclasses.field(default_factory=dict)  # clear -> kind

    def value(self, value: Any, kind: str, path: list) -> Any:
        if isinstance(value, bool) or value is None or value == "":
            return value
        if not isinstance(value, str | int | float):
            return self.walk(value, path)
        text = str(value)
        self.clear.setdefault(text, kind)
        return Masked(mask_for(kind, text), make_ref=partial(self.make_ref, path), kind=kind)

    def fields(self, block: Any, path: list) -> Any:
        if not isinstance(block, dict):
            return self.walk(block, path)
        return {
            key: self.value(item, _field_kind(key), [*path, key])
            if PERSONAL_KEY.search(str(key))
            else self.walk(item, [*path, key])
            for key, item in block.items()
        }

    def walk(self, node: Any, path: list) -> Any:
        if isinstance(node, list):
            return [self.walk(item, [*path, i]) for i, item in enumerate(node)]
        if not isinstance(node, dict):
            return node
        out = {}
        for key, item in node.items():
            here = [*path, key]
            if key in IDENTIFIER_LISTS and isinstance(item, list):
                out[key] = [self.identifier(entry, [*here, i]) for i, entry in enumerate(item)]
            elif key in CARD_KEYS:
                out[key] = self.value(item, "card", here)
            elif key in FIELD_BLOCKS:
                out[key] = self.fields(item, here)
            elif key == "identifierValue":
                out[key] = self.value(item, str(node.get("identifierType") or "id"), here)
            else:
                out[key] = self.walk(item, here)
        return out

    def identifier(self, entry: Any, path: list) -> Any:
        if not isinstance(entry, dict):
            return self.walk(entry, path)
        kind = str(entry.get("type") or "id")
        return {
            key: self.value(item, kind, [*path, key])
            if key == "value"
            else self.walk(item, [*path, key])
            for key, item in entry.items()
        }

    def sweep(self, node: Any, path: list) -> Any:
        """Mask any other string equal to a personal value found above (belt and braces)."""
        if isinstance(node, Masked):
            return node
        if isinstance(node, list):
            return [self.sweep(item, [*path, i]) for i, item in enumerate(node)]
        if isinstance(node, dict):
            return {key: self.sweep(item, [*path, key]) for key, item in node.items()}
        if isinstance(node, str) and node in self.clear:
            kind = self.clear[node]
            return Masked(mask_for(kind, node), make_ref=partial(self.make_ref, path), kind=kind)
        return node


def mask_raw(raw: Any, make_ref: Any = lambda path: "") -> Any:
    """Return a masked copy of decoded Get customer details JSON."""
    return mask_raw_and_text(raw, make_ref)[0]


def mask_raw_and_text(raw: Any, make_ref: Any = lambda path: "") -> tuple[Any, str]:
    """Return a masked copy of decoded JSON and that copy as JSON text.

    The sweep for personal values left elsewhere in the answer walks it all again; it
    runs only when one of them appears in the text as a JSON string, which is rare.
    """
    walker = _Walker(make_ref)
    walked = walker.walk(raw, [])
    text = json.dumps(walked, ensure_ascii=False)
    if not any(json.dumps(value, ensure_ascii=False) in text for value in walker.clear):
        return walked, text
    swept = walker.sweep(walked, [])
    return swept, json.dumps(swept, ensure_ascii=False)


# References ----------------------------------------------------------------------------


def make_ref(org_pk: int, customer_id: int, params: list, path: list) -> str:
    """Return a signed reference to one value of one upstream answer (never the value)."""
    return signing.dumps(
        [org_pk, customer_id, [list(p) for p in params], path], salt=SALT, compress=True
    )


def read_ref(ref: str) -> tuple[int, int, list[tuple[str, str]], list]:
    """Return (org pk, customer id, upstream params, JSON path); raise signing.BadSignature."""
    org_pk, customer_id, params, path = signing.loads(ref, salt=SALT, max_age=REF_MAX_AGE)
    return int(org_pk), int(customer_id), [tuple(p) for p in params], list(path)


def value_at(raw: Any, path: list) -> str | None:
    """Return the clear value at a JSON path, or None."""
    node = raw
    for step in path:
        if isinstance(node, dict) and isinstance(step, str):
            node = node.get(step)
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            node = node[step]
        else:
            return None
    return None if node is None or isinstance(node, dict | list) else str(node)


# Views' entry point --------------------------------------------------------------------


# Masking walks the whole answer, which costs more than the rest of a cache-hit page; the
# masked form of one upstream answer is the same for every masked viewer, so each process
# keeps the last few. Entries live well inside REF_MAX_AGE, so their signed references
# stay valid for the page views that use them.
MASKED_SECONDS = 600
_masked: LRU[tuple, tuple[float, Any]] = LRU(64)


def mask_data(data: Any, org_pk: int | None) -> Any:
    """Return a masked copy of one CustomerData (memoised per upstream answer)."""
    key = (org_pk, data.path, tuple(tuple(p) for p in data.params), data.fetched_at)
    now = time.monotonic()
    hit = _masked.get(key)
    if hit is None or now - hit[0] >= MASKED_SECONDS:
        hit = _masked.put(key, (now, _mask_data(data, org_pk)))
    masked = hit[1]
    # The memoised copy parses its records once, for every viewer of this answer.
    return dataclasses.replace(
        data, parsed=masked.customer, raw=masked.raw, raw_text=masked.raw_text
    )


def _mask_data(data: Any, org_pk: int | None) -> Any:
    # The decoded body is shared with the cache's copy: masking copies it, never changes it.
    raw = data.body()
    customer_id = whole_number(str(raw.get("id", "")), 1) or 0

    def ref(path: list) -> str:
        return make_ref(org_pk, customer_id, data.params, path) if org_pk and customer_id else ""

    masked_raw, masked_text = mask_raw_and_text(raw, ref)
    return dataclasses.replace(data, parsed=None, raw=masked_raw, raw_text=masked_text)


def prepare_parts(user: Any, org: Any, parts: dict[str, Any]) -> dict[str, Any]:
    """Return the parts as this viewer may see them."""
    if roles.sees_pii(user):
        return parts
    org_pk = org.pk if org is not None else None
    return {
        name: value
        if value is None or isinstance(value, CapillaryError)
        else mask_data(value, org_pk)
        for name, value in parts.items()
    }
