"""Mobile numbers as agents type them, normalised to the form Capillary stores them in."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat

# What a typed phone number may hold besides digits: spaces, dashes, dots, brackets, a
# leading plus, and the "(0)" people write inside an international number.
PHONE_CHARACTERS = re.compile(r"\+?[0-9 ()./\-\u00a0]{4,40}")
_NOT_DIGIT = re.compile(r"[^0-9]")


class InvalidMobile(ValueError):
    """Text that is not a mobile number for the country; `message` says why, for the field."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Mobile:
    """A parsed mobile number: Capillary's digits-only form and how a person writes it."""

    digits: str  # country code and number, digits only: 447911123456
    international: str  # +44 7911 123456
    region: str  # GB


def country_name(region: str) -> str:
    """Return a region code with its calling code for messages ("GB, +44")."""
    code = phonenumbers.country_code_for_region(region)
    return f"{region}, +{code}" if code else region


def normalise(text: str, default_region: str) -> Mobile:
    """Return the mobile number `text` names, read in `default_region` when it has no country.

    Accepts spaces, dashes, dots, brackets, `+`, `00`, a national leading zero, and the
    country code with or without `+` (as Capillary writes it). Raises InvalidMobile.
    """
    typed = text.strip()
    if not PHONE_CHARACTERS.fullmatch(typed):
        raise InvalidMobile("A mobile number has digits, spaces, dashes, dots, brackets or a +.")
    digits = _NOT_DIGIT.sub("", typed)
    if typed.startswith("00"):
        typed, digits = "+" + digits[2:], digits[2:]
    region = default_region.upper()
    number = _parse(typed, region)
    if not typed.startswith("+") and (number is None or not phonenumbers.is_valid_number(number)):
        # Capillary's own form: the country code without the plus (447911123456).
        with_plus = _parse("+" + digits, region)
        if with_plus is not None and phonenumbers.is_valid_number(with_plus):
            number = with_plus
    if number is None:
        raise InvalidMobile(f"That is not a phone number ({country_name(region)} by default).")
    # The country's main region (GB for +44 7911..., not Guernsey, which shares the range).
    where = phonenumbers.region_code_for_country_code(number.country_code)
    if where == phonenumbers.UNKNOWN_REGION:
        where = region
    if not phonenumbers.is_possible_number(number):
        raise InvalidMobile(
            f"{len(digits)} digits is not a possible phone number in {country_name(where)}."
        )
    if not phonenumbers.is_valid_number(number):
        raise InvalidMobile(f"That is not a valid phone number in {country_name(where)}.")
    international = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    return Mobile(f"{number.country_code}{number.national_number}", international, where)


def _parse(text: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region)
    except NumberParseException:
        return None


def valid_region(region: str) -> bool:
    """Return whether libphonenumber knows the region code (IN, GB...)."""
    return region.upper() in phonenumbers.SUPPORTED_REGIONS
