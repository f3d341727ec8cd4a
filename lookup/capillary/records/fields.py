"""Converters and field specs: how a record reads forgiving JSON."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Self


def to_decimal(value: Any) -> Decimal | None:
    """Return `value` as a finite Decimal (0.000, "120.50", 7), or None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        number = Decimal(repr(value))
    elif isinstance(value, str) and len(value) <= 64:
        try:
            number = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            return None
    else:
        return None
    return number if number.is_finite() else None


def parse_datetime(value: Any) -> datetime | None:
    """Return an ISO 8601 string (with offset, Z or date only) as a datetime, else None."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if not isinstance(value, str) or not 8 <= len(value.strip()) <= 64:
        return None
    try:
        return datetime.fromisoformat(value.strip())
    except (ValueError, OverflowError):
        return None


def _str(value: Any) -> str:
    if type(value) is str:  # the common case first: parsing calls this for every text field
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float | Decimal):
        return str(value)
    return ""


def _int(value: Any) -> int | None:
    if type(value) is int:
        return value
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    number = to_decimal(value)
    if number is None or number != number.to_integral_value() or abs(number) > 2**63:
        return None
    return int(number)


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return None


def _dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, dict) else {}


def _many(value: Any) -> list[dict[str, Any]]:
    """Return the objects of a list, or a lone object as a list of one."""
    if isinstance(value, dict):
        return [value]
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _lookup(data: dict[str, Any], keys: tuple[tuple[str, ...], ...]) -> Any:
    """Return the first non-null value among `keys` (each a path into nested objects)."""
    for path in keys:
        value: Any = data
        for part in path:
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            return value
    return None


def _spec(convert: Callable[[Any], Any], keys: tuple[str, ...], default: Any = None) -> Any:
    if isinstance(default, dict | tuple):
        return field(default_factory=type(default), metadata={"keys": keys, "convert": convert})
    return field(default=default, metadata={"keys": keys, "convert": convert})


# Field specs: each names the JSON keys to try, in order, and how to convert the value.


def text(*keys: str) -> Any:
    return _spec(_str, keys, "")


def integer(*keys: str) -> Any:
    return _spec(_int, keys)


def number(*keys: str) -> Any:
    return _spec(to_decimal, keys)


def flag(*keys: str) -> Any:
    return _spec(_bool, keys)


def when(*keys: str) -> Any:
    return _spec(parse_datetime, keys)


def mapping(*keys: str) -> Any:
    return _spec(_dict, keys, {})


def many(cls: type[Record], *keys: str) -> Any:
    return _spec(lambda v: tuple(cls.from_raw(item) for item in _many(v)), keys, ())


def one(cls: type[Record], *keys: str) -> Any:
    return _spec(lambda v: cls.from_raw(v) if isinstance(v, dict) else None, keys)


@dataclass(frozen=True)
class Record:
    """Base of every record; `raw` keeps the source object so the UI can show unknown fields."""

    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_raw(cls, data: Any) -> Self:
        """Build the record from decoded JSON of any shape, never raising."""
        data = data if isinstance(data, dict) else {}
        get = data.get
        values = {}
        for name, convert, keys, paths in _specs(cls):
            value = None
            if keys is not None:  # top-level keys only: the common case, read directly
                for key in keys:
                    value = get(key)
                    if value is not None:
                        break
            else:
                value = _lookup(data, paths)
            values[name] = convert(value)
        return cls(raw=data, **values)


_Spec = tuple[str, Callable[[Any], Any], tuple[str, ...] | None, tuple[tuple[str, ...], ...]]
_SPECS: dict[type, list[_Spec]] = {}


def _specs(cls: type) -> list[_Spec]:
    """Return (field name, converter, top-level keys or None, key paths) of a record class.

    Worked out once per class; `keys` is set when no path goes into a nested object.
    """
    specs = _SPECS.get(cls)
    if specs is None:
        specs = []
        for f in dataclasses.fields(cls):
            if "convert" not in f.metadata:
                continue
            paths = tuple(tuple(k.split(".")) for k in f.metadata["keys"])
            flat = all(len(path) == 1 for path in paths)
            keys = tuple(path[0] for path in paths) if flat else None
            specs.append((f.name, f.metadata["convert"], keys, paths))
        _SPECS[cls] = specs
    return specs
