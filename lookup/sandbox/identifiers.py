"""The identifiers of generated and fault customers, and reading a customer back from one.

Every generated customer has a mobile number, an email and an external ID that name it
(so a lookup never has to build the whole population to find one): the mobile is a
country's prefix followed by the customer's four-digit offset in the generated range,
in several countries' formats. Fault customers have the same three, so a lookup by
identifier fails the way the by-ID endpoint does for them. Cards are read back from the
card ID in their number. Some multi-source customers' MARTJACK email is another
customer's INSTORE email: one identifier, two customers, in two sources.
"""

from __future__ import annotations

from .faults import FAULT_IDS
from .pools import GENERATED_START, GENERATED_STOP

# Country -> (calling code, national prefix before the four-digit offset). Each is a
# valid mobile number for its country (libphonenumber agrees).
MOBILE_PLANS: dict[str, tuple[str, str]] = {
    "IN": ("91", "987650"),
    "GB": ("44", "791110"),
    "SG": ("65", "8200"),
    "AE": ("971", "50120"),
    "CN": ("86", "1380010"),
    "US": ("1", "201555"),
}
# Offsets by last digit: most customers are Indian, as in Capillary's examples.
_COUNTRY_BY_DIGIT = ("IN", "IN", "IN", "IN", "IN", "IN", "GB", "GB", "SG", "US")
_FAULT_PREFIX = "91970000"
_FAULT_BY_INDEX = list(FAULT_IDS.values())
# Multi-source customers (offset 15 of every 40) share their MARTJACK email with the
# customer 15 before them, whose INSTORE profile has it.
SHARED_EMAIL_EVERY = 40
SHARED_EMAIL_OFFSET = 15
CARD_ID_BASE = 800_000
CARDS_PER_CUSTOMER = 32


def _offset(customer_id: int) -> int | None:
    if GENERATED_START <= customer_id < GENERATED_STOP:
        return customer_id - GENERATED_START
    return None


def country_of(customer_id: int, kind: str = "") -> str:
    """Return the country of a customer's mobile number."""
    if kind == "unicode_cjk":
        return "CN"
    if kind == "unicode_arabic":
        return "AE"
    offset = _offset(customer_id)
    return _COUNTRY_BY_DIGIT[offset % 10] if offset is not None else "IN"


def mobile_of(customer_id: int, kind: str = "") -> str:
    """Return the customer's mobile as Capillary stores it: country code and number, digits."""
    offset = _offset(customer_id)
    if offset is None:
        return f"{_FAULT_PREFIX}{_FAULT_BY_INDEX.index(customer_id):04d}"
    code, prefix = MOBILE_PLANS[country_of(customer_id, kind)]
    return f"{code}{prefix}{offset:04d}"


def email_of(customer_id: int) -> str:
    """Return the customer's email address."""
    return f"member{customer_id}@example.com"


def external_id_of(customer_id: int) -> str:
    """Return the customer's external ID."""
    return f"EXT{customer_id}"


def martjack_email_of(customer_id: int) -> str:
    """Return the email of the customer's MARTJACK profile (another's, for some)."""
    offset = _offset(customer_id)
    if offset is not None and offset % SHARED_EMAIL_EVERY == SHARED_EMAIL_OFFSET:
        return email_of(customer_id - SHARED_EMAIL_OFFSET)
    return email_of(customer_id)


def card_id_for(customer_id: int, index: int) -> int:
    """Return the ID of the customer's card number ``index``."""
    return CARD_ID_BASE + (customer_id % 100_000) * CARDS_PER_CUSTOMER + index


def _known(customer_id: int) -> bool:
    return _offset(customer_id) is not None or customer_id in _FAULT_BY_INDEX


def candidates(name: str, value: str) -> list[int]:
    """Return the customers an identifier may belong to (the caller checks each record)."""
    value = value.strip()
    if name == "mobile":
        if value.startswith(_FAULT_PREFIX) and len(value) == len(_FAULT_PREFIX) + 4:
            index = int(value[-4:]) if value[-4:].isdigit() else len(_FAULT_BY_INDEX)
            return [_FAULT_BY_INDEX[index]] if index < len(_FAULT_BY_INDEX) else []
        found = []
        for code, prefix in MOBILE_PLANS.values():
            head = code + prefix
            tail = value[len(head) :]
            if value.startswith(head) and len(tail) == 4 and tail.isdigit():
                found.append(GENERATED_START + int(tail))
        return found
    if name == "email":
        local, _, domain = value.lower().partition("@")
        number = local.removeprefix("member")
        if domain != "example.com" or not number.isdigit():
            return []
        owner = int(number)
        found = [owner] if _known(owner) else []
        sharer = owner + SHARED_EMAIL_OFFSET
        if _offset(sharer) is not None and _offset(sharer) % SHARED_EMAIL_EVERY == (
            SHARED_EMAIL_OFFSET
        ):
            found.append(sharer)
        return found
    if name == "externalId":
        number = value.removeprefix("EXT")
        return [int(number)] if number.isdigit() and _known(int(number)) else []
    if name in ("cardnumber", "cardExternalId"):
        digits = value.removeprefix("CardExternal") if name == "cardExternalId" else value[-12:]
        if not digits.isdigit():
            return []
        slot = (int(digits) - CARD_ID_BASE) // CARDS_PER_CUSTOMER
        if not 0 <= slot < 100_000:
            return []
        customer_id = GENERATED_START + slot
        return [customer_id] if _offset(customer_id) is not None else []
    return []
