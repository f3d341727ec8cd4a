"""JSON encoding that can emit numbers in an exact textual form such as ``221350.000``."""

from __future__ import annotations

import json
import re
from typing import Any

# A number that must keep its exact text travels through ``json.dumps`` as a string with
# this prefix; ``dumps`` then strips the quotes. json always escapes NUL, so no ordinary
# string can collide with the marker.
_RAW_PREFIX = "\x00#"
_RAW_RE = re.compile(r'"\\u0000#(-?[0-9][0-9.eE+-]*)"')
# What json.dumps(obj, ensure_ascii=False) builds on every call; the encoder keeps no state
# between calls, so one serves every thread.
_ENCODER = json.JSONEncoder(ensure_ascii=False)


def raw_number(text: str) -> str:
    """Return a marker that ``dumps`` writes as the bare JSON number ``text``."""
    return _RAW_PREFIX + text


def is_raw_number(value: Any) -> bool:
    """Return True if ``value`` is a marker made by ``raw_number``."""
    return isinstance(value, str) and value.startswith(_RAW_PREFIX)


def raw_value(value: Any) -> Any:
    """Return a raw-number marker as a float; return anything else unchanged."""
    return float(value[len(_RAW_PREFIX) :]) if is_raw_number(value) else value


def keep_float_text(text: str) -> float | str:
    """Parse a JSON float, keeping its text when Python would print it differently."""
    value = float(text)
    return value if repr(value) == text else raw_number(text)


def loads_exact(text: str) -> Any:
    """Parse JSON text, keeping floats such as ``10200.000`` in their written form."""
    return json.loads(text, parse_float=keep_float_text)


def dumps(obj: Any) -> bytes:
    """Encode ``obj`` as UTF-8 JSON, writing raw-number markers as bare numbers."""
    text = _ENCODER.encode(obj)
    if "\\u0000#" in text:
        text = _RAW_RE.sub(r"\1", text)
    return text.encode("utf-8")
