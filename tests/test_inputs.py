"""Whole numbers read from requests: only short ASCII digits ever reach int()."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from lookup.forms import WholeNumberField
from lookup.inputs import MAX_WHOLE, WholeNumberConverter, whole_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        (" 42 ", 42),
        ("9223372036854775807", MAX_WHOLE),
        ("9223372036854775808", None),
        ("9" * 5000, None),
        ("-1", None),
        ("+1", None),
        ("١٢٣", None),
        ("１２３", None),
        ("²", None),
        ("1_000", None),
        ("1e3", None),
        ("", None),
        ("7\n", 7),
        (None, None),
        (True, None),
        (12, 12),
    ],
)
def test_whole_number(text, expected):
    assert whole_number(text) == expected


@given(st.text(max_size=40))
def test_whole_number_is_int_of_short_ascii_digits_or_none(text):
    number = whole_number(text, 1, 1000)
    stripped = text.strip()
    plain = stripped.isascii() and stripped.isdigit() and len(stripped) <= 19
    if number is None:
        assert not plain or not 1 <= int(stripped) <= 1000
    else:
        assert plain and number == int(stripped)


def test_converter_refuses_long_numbers():
    converter = WholeNumberConverter()
    assert converter.to_python("0012") == 12
    with pytest.raises(ValueError):
        converter.to_python("9" * 20)


def test_form_field_says_what_to_type():
    field = WholeNumberField(required=False, min_value=1)
    assert field.clean("42") == 42
    assert field.clean("") is None
    for text in ("9" * 5000, "١٢٣", "-5", "4.2"):
        with pytest.raises(ValidationError, match="digits 0 to 9 only"):
            field.clean(text)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["images/customer/" + "9" * 5000, "images/customer/-1"])
def test_image_index_out_of_bounds_is_not_found(agent_client, path):
    response = agent_client.get(f"/customers/566881933/{path}/")
    assert response.status_code == HTTPStatus.NOT_FOUND
