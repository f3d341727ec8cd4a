"""Reading the search box: what kind of identifier the agent typed, normalised for Capillary."""

from __future__ import annotations

import re
from dataclasses import dataclass

from lookup.inputs import whole_number
from lookup.search.phones import PHONE_CHARACTERS, InvalidMobile, normalise

# "Search as" choices, in the order the form offers them; "auto" guesses.
KINDS: dict[str, str] = {
    "auto": "Guess",
    "mobile": "Mobile",
    "email": "Email",
    "cardnumber": "Card number",
    "cardExternalId": "Card external ID",
    "externalId": "External ID",
    "customer_id": "Customer ID",
    "name": "Name",
}
MAX_LENGTH = 128
# Customer IDs are 64-bit; in practice they have up to 10 digits, and a longer run of
# digits with no phone formatting is a scanned card.
CUSTOMER_ID_DIGITS = 10
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
# A card printed as a series code and a long number (GOLDPLS000000800257).
_CARD = re.compile(r"[A-Za-z]{0,12}[0-9]{10,24}")
_NAME = re.compile(r"[^\W\d_][^\W\d_ '.\-]*(?:[ '.\-]+[^\W\d_]*)*")
_SEPARATORS = re.compile(r"[ ()./\-\u00a0]")


class Unreadable(ValueError):
    """Input that cannot be searched as asked; `message` is for the search field."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Reading:
    """How the box was read: the kind, the value sent to Capillary, and the value in words."""

    kind: str
    value: str
    shown: str
    guessed: bool = True

    @property
    def label(self) -> str:
        """Return the kind in a sentence ("mobile", "card external ID")."""
        return KINDS[self.kind][0].lower() + KINDS[self.kind][1:]

    @property
    def sentence(self) -> str:
        """Return how the page says it read the input ("mobile +44 7911 123456, searched as
        447911123456")."""
        if self.shown != self.value:
            return f"{self.label} {self.shown}, searched as {self.value}"
        return f"{self.label} {self.value}"


def guess(text: str, region: str) -> str:
    """Return the kind of identifier `text` most likely is (the box's "Guess")."""
    if "@" in text:
        return "email"
    digits_only = text.isascii() and text.isdigit()
    if digits_only:
        if text.startswith("0"):
            return "mobile" if _is_mobile(text, region) else "cardnumber"
        if len(text) <= CUSTOMER_ID_DIGITS - 1:
            return "customer_id"
        if len(text) <= 13 and _is_mobile(text, region):
            return "mobile"
        return "customer_id" if len(text) <= CUSTOMER_ID_DIGITS else "cardnumber"
    if PHONE_CHARACTERS.fullmatch(text) and (text.startswith("+") or _SEPARATORS.search(text)):
        return "mobile"
    if _CARD.fullmatch(text):
        return "cardnumber"
    if text.startswith("CardExternal"):
        return "cardExternalId"
    if _NAME.fullmatch(text) and not any(c.isdigit() for c in text):
        return "name"
    return "externalId"


def _is_mobile(text: str, region: str) -> bool:
    try:
        normalise(text, region)
    except InvalidMobile:
        return False
    return True


def read(text: str, region: str, as_kind: str = "auto") -> Reading:
    """Return how to search for `text`: guessed, or as the agent chose. Raise Unreadable."""
    text = (text or "").strip()
    if not text:
        raise Unreadable("Type a mobile number, email, card, external ID or customer ID.")
    if len(text) > MAX_LENGTH or not text.isprintable():
        raise Unreadable("That is too long, or has characters no identifier has.")
    if as_kind not in KINDS:
        raise Unreadable("Choose what to search as from the list.")
    guessed = as_kind == "auto"
    kind = guess(text, region) if guessed else as_kind
    if kind == "mobile":
        try:
            mobile = normalise(text, region)
        except InvalidMobile as exc:
            raise Unreadable(exc.message) from None
        return Reading(kind, mobile.digits, mobile.international, guessed)
    if kind == "email":
        value = text.lower()
        if not _EMAIL.fullmatch(value):
            raise Unreadable("That is not an email address (name@example.com).")
        return Reading(kind, value, value, guessed)
    if kind == "customer_id":
        number = whole_number(text, 1)
        if number is None:
            raise Unreadable("A customer ID is a whole number: the digits 0 to 9 only.")
        return Reading(kind, str(number), str(number), guessed)
    if kind == "name":
        if len(text) < 3:
            raise Unreadable("Type at least 3 letters of a name.")
        return Reading(kind, text, text, guessed)
    if kind == "cardnumber":
        # Scanners and people add spaces and dashes between groups; cards have none.
        value = _SEPARATORS.sub("", text)
        return Reading(kind, value, text, guessed)
    return Reading(kind, text, text, guessed)
