"""Whole numbers read from a request: bounded, plain ASCII digits, checked before int()."""

from __future__ import annotations

import re

# A 64-bit ID has 19 digits. Longer text is refused before int() sees it: int() of
# thousands of digits is slow, and past 4,300 it raises.
MAX_DIGITS = 19
MAX_WHOLE = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")


def whole_number(text: object, low: int = 0, high: int = MAX_WHOLE) -> int | None:
    """Return the text as a whole number from low to high, or None when it is not one.

    Surrounding spaces are allowed; signs, Unicode digits ("١٢٣", "１２３"), underscores,
    exponents and more than 19 digits are not.
    """
    if isinstance(text, bool) or not isinstance(text, (str, int)):
        return None
    if isinstance(text, int):
        number = text
    else:
        stripped = text.strip()
        if len(stripped) > MAX_DIGITS or not _DIGITS.fullmatch(stripped):
            return None
        number = int(stripped)
    return number if low <= number <= high else None


class WholeNumberConverter:
    """A URL path segment of 1 to 19 ASCII digits, as an int (`<whole:index>`)."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = whole_number(value)
        if number is None:
            raise ValueError(value)  # the URL does not match
        return number

    def to_url(self, value: int | str) -> str:
        return str(value)
