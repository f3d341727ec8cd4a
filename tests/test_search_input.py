"""Tests for reading the search box: the classifier and mobile number normalisation."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lookup.sandbox.identifiers import MOBILE_PLANS
from lookup.search.classify import Unreadable, guess, read
from lookup.search.phones import InvalidMobile, normalise

# (typed, default country, Capillary's form)
MOBILES = [
    ("+44 7911 123456", "IN", "447911123456"),
    ("+44 (0)7911 123456", "IN", "447911123456"),
    ("0044 7911 123456", "IN", "447911123456"),
    ("0044 7911 123456", "US", "447911123456"),
    ("07911 123456", "GB", "447911123456"),
    ("07911-123-456", "GB", "447911123456"),
    ("(07911) 123.456", "GB", "447911123456"),
    ("447911123456", "IN", "447911123456"),
    ("98765 00042", "IN", "919876500042"),
    ("098765 00042", "IN", "919876500042"),
    ("+91-98765-00042", "GB", "919876500042"),
    ("919876500042", "IN", "919876500042"),
    ("9876500042", "IN", "919876500042"),
    ("+65 8200 0042", "IN", "6582000042"),
    ("8200 0042", "SG", "6582000042"),
    ("050 120 0042", "AE", "971501200042"),
    ("+971 50 120 0042", "IN", "971501200042"),
    ("138 0010 0042", "CN", "8613800100042"),
    ("(201) 555-0042", "US", "12015550042"),
    ("+1 201.555.0042", "IN", "12015550042"),
    ("\u00a0+44\u00a07911\u00a0123456 ", "IN", "447911123456"),
]


@pytest.mark.parametrize(("typed", "country", "stored"), MOBILES)
def test_mobile_formats(typed, country, stored):
    assert normalise(typed, country).digits == stored


@pytest.mark.parametrize(
    ("typed", "country"),
    [
        ("+44 7911", "IN"),
        ("98765", "IN"),
        ("0000 000000", "GB"),
        ("+999 1234 5678", "IN"),
        ("7911 12345678901", "GB"),
        ("phone me", "IN"),
        ("+44 7911 123456 ext 2", "IN"),
    ],
)
def test_not_a_mobile(typed, country):
    with pytest.raises(InvalidMobile) as caught:
        normalise(typed, country)
    assert caught.value.message


def test_message_names_the_country():
    with pytest.raises(InvalidMobile, match=r"GB, \+44"):
        normalise("07911 12", "GB")


def test_reading_says_what_was_searched():
    reading = read("+44 7911 123456", "IN")
    assert (reading.kind, reading.value) == ("mobile", "447911123456")
    assert reading.sentence == "mobile +44 7911 123456, searched as 447911123456"


# (typed, default country, kind guessed, value sent)
GUESSES = [
    ("566881933", "IN", "customer_id", "566881933"),
    ("100000015", "IN", "customer_id", "100000015"),
    (" 100000015 ", "GB", "customer_id", "100000015"),
    ("9876500042", "IN", "mobile", "919876500042"),
    ("919876500042", "IN", "mobile", "919876500042"),
    ("07911 123456", "GB", "mobile", "447911123456"),
    ("+44 7911 123456", "IN", "mobile", "447911123456"),
    ("0044 7911 123456", "IN", "mobile", "447911123456"),
    ("Tom.Sawyer@Example.COM ", "IN", "email", "tom.sawyer@example.com"),
    ("member100000042@example.com", "IN", "email", "member100000042@example.com"),
    ("mtest000000800256", "IN", "cardnumber", "mtest000000800256"),
    ("GOLDPLS000000800257", "IN", "cardnumber", "GOLDPLS000000800257"),
    ("4111111111111111", "IN", "cardnumber", "4111111111111111"),
    ("CardExternal800256", "IN", "cardExternalId", "CardExternal800256"),
    ("EXT100000042", "IN", "externalId", "EXT100000042"),
    ("12341234-A", "IN", "externalId", "12341234-A"),
    ("Tom Sawyer", "IN", "name", "Tom Sawyer"),
    ("O'Brien", "IN", "name", "O'Brien"),
    ("Müller", "IN", "name", "Müller"),
]


@pytest.mark.parametrize(("typed", "country", "kind", "value"), GUESSES)
def test_guess(typed, country, kind, value):
    reading = read(typed, country)
    assert (reading.kind, reading.value) == (kind, value)
    assert reading.guessed


def test_search_as_overrides_the_guess():
    assert read("9876500042", "IN", "customer_id").value == "9876500042"
    assert read("100000042", "IN", "externalId").kind == "externalId"
    assert not read("100000042", "IN", "externalId").guessed


@pytest.mark.parametrize(
    ("typed", "as_kind"),
    [
        ("", "auto"),
        ("   ", "auto"),
        ("x" * 129, "auto"),
        ("bad\x00byte", "auto"),
        ("not-an-email@", "email"),
        ("12ab", "customer_id"),
        ("Jo", "name"),
        ("123", "mobile"),
        ("anything", "password"),
    ],
)
def test_unreadable(typed, as_kind):
    with pytest.raises(Unreadable):
        read(typed, "IN", as_kind)


# -- properties over the sandbox's countries ------------------------------------------------------

REGIONS = sorted(MOBILE_PLANS)


@st.composite
def sandbox_mobiles(draw):
    """A sandbox customer's mobile, its default country, and a way a person might type it."""
    region = draw(st.sampled_from(REGIONS))
    code, prefix = MOBILE_PLANS[region]
    stored = f"{code}{prefix}{draw(st.integers(0, 9999)):04d}"
    number = phonenumbers.parse("+" + stored)
    style = draw(st.sampled_from(["e164", "intl", "national", "capillary", "00"]))
    typed = {
        "e164": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        "intl": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
        "national": phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL),
        "capillary": stored,
        "00": "00" + stored,
    }[style]
    separator = draw(st.sampled_from(["", " ", "-", "."]))
    if separator and style != "capillary":
        typed = typed.replace(" ", separator)
    padding = draw(st.sampled_from(["", " ", "  "]))
    return padding + typed + padding, region, stored


@settings(max_examples=300, deadline=None)
@given(sandbox_mobiles())
def test_any_format_gives_capillary_form(case):
    typed, region, stored = case
    assert normalise(typed, region).digits == stored


@settings(max_examples=200, deadline=None)
@given(sandbox_mobiles(), st.sampled_from(REGIONS))
def test_international_forms_ignore_the_default_country(case, default):
    typed, _region, stored = case
    if typed.strip().startswith(("+", "00")):
        assert normalise(typed, default).digits == stored


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), st.sampled_from(REGIONS))
def test_read_never_crashes(text, region):
    try:
        reading = read(text, region)
    except Unreadable as exc:
        assert exc.message
    else:
        assert reading.value and reading.value == reading.value.strip()
        assert guess(text.strip(), region) == reading.kind


@settings(max_examples=200, deadline=None)
@given(st.emails())
def test_emails_are_read_as_emails(email):
    reading = read(email.upper(), "IN")
    assert reading.kind == "email"
    assert reading.value == email.upper().lower()
