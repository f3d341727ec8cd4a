"""The sandbox's customers: the two documented seeds plus a generated population."""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache

from .faults import FAULT_BY_ID
from .generate import archetype_of, build_generated
from .model import Customer
from .pools import ARCHETYPES, GENERATED_START, GENERATED_STOP
from .seeds import SEED_IDS, build_seed

__all__ = [
    "GENERATED_RANGE",
    "SEED_IDS",
    "SHAPES",
    "archetype_of",
    "build_customer",
    "cached_customer",
    "customer_exists",
]

GENERATED_RANGE = range(GENERATED_START, GENERATED_STOP)
# Built customers kept for reuse (about 15-40 kB each, depending on the blocks built).
CUSTOMER_CACHE_SIZE = 1024

# One representative generated customer per shape, for tests that need "a customer with X".
SHAPES: dict[str, int] = {
    name: GENERATED_START + ARCHETYPES.index(name) for name in dict.fromkeys(ARCHETYPES)
}
SHAPES.update(
    {
        "seed_bubalus": 566881933,
        "seed_tom_sawyer": 565261498,
        "upgrade_camel_case": GENERATED_START + 1,  # many_programs, key "upgradeBasedOn"
        "upgrade_snake_case": GENERATED_START + 21,  # many_programs, key "upgrade_based_on"
        "top_level_gaps_list": GENERATED_START + 32,  # top-level gapToRenewSummary sent as a list
    }
)


def today_utc() -> date:
    """Return today's date in UTC, the anchor for all relative dates."""
    return datetime.now(UTC).date()


def customer_exists(customer_id: int) -> bool:
    """Return True if the sandbox knows ``customer_id``."""
    return customer_id in SEED_IDS or customer_id in GENERATED_RANGE or customer_id in FAULT_BY_ID


def build_customer(customer_id: int, today: date | None = None) -> Customer | None:
    """Build customer ``customer_id`` (deterministic for a given day), or None if unknown."""
    today = today or today_utc()
    if customer_id in SEED_IDS:
        return build_seed(customer_id, today)
    if customer_id in GENERATED_RANGE:
        return build_generated(customer_id, today)
    if customer_id in FAULT_BY_ID:
        return build_generated(customer_id, today, kind="fault")
    return None


@lru_cache(maxsize=CUSTOMER_CACHE_SIZE)
def _cached_customer(customer_id: int, today: date) -> Customer | None:
    return build_customer(customer_id, today)


def cached_customer(customer_id: int, today: date) -> Customer | None:
    """Return ``build_customer(customer_id, today)``, reusing the recently built ones.

    Generation is deterministic for a given day, so the (bounded, least recently used)
    cache changes no answer. The customer is shared between requests: never mutate it.
    """
    return _cached_customer(customer_id, today)
