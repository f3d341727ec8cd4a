"""Verbatim seed customers from Capillary's "Get customer details" page, with their extra blocks."""

from __future__ import annotations

import random
from datetime import UTC, date
from functools import cache, partial
from importlib import resources
from typing import Any

from . import blocks
from .blocks import Ctx
from .jsonout import loads_exact
from .model import (
    Blocks,
    Customer,
    Program,
    RenewSpec,
    RenewStrategy,
    UpgradeSpec,
    points_summary_of,
    program_details,
)

# The documented customers, in the order the doc shows them. Their response bodies, copied
# character for character from shared/seed/get-customer-details.md (including its
# "[email protected]" scraping artefact), are package data: documented/<id>.json. The tests read
# the same files.
SEED_IDS = (566881933, 565261498)
_DOCUMENTED = resources.files(__package__) / "documented"


@cache
def documented_text(customer_id: int) -> str:
    """Return the documented response body of seed customer ``customer_id``, as the doc writes it."""
    if customer_id not in SEED_IDS:
        raise KeyError(f"{customer_id} is not a documented customer")
    return (_DOCUMENTED / f"{customer_id}.json").read_text(encoding="utf-8")


# Blocks that the doc shows for Tom Sawyer only because the request asked for them.
_FLAG_KEYS = (
    "optinStatus",
    "slabHistory",
    "tierUpgradeCriteria",
    "ndncStatus",
    "membershipRetentionCriteria",
)


def _seed_programs(customer_id: int, today: date) -> list[Program]:
    """Return plausible program memberships consistent with the documented seed payloads."""
    if customer_id == 566881933:
        # lifetimePurchases 221350.000 -> 10% points; Garnet needs 250,000 cumulative purchases for Ruby.
        details = program_details(
            program_id=973,
            title="DocDemoDefaultProgram",
            description="Default program for DocDemo",
            tiers=["Topaz", "Coral", "Garnet", "Ruby", "Diamond"],
            slab_sno=3,
            slab_expiry="2126-09-23T23:59:59Z",
            loyalty_id=143_551_933,
            purchases=221350.0,
            lifetime=22135.0,
            redeemed=5000.0,
            expired=135.0,
        )
        upgrade = UpgradeSpec("CUMULATIVE_PURCHASES", 250000.0, 221350.0, 120.0, 365)
        renew = RenewSpec(
            date(2026, 9, 23), False, [RenewStrategy("PURCHASE", 50000.0, 42100.0, -35.0)]
        )
        return [Program(details, [upgrade], renew)]
    # Tom Sawyer: slab history in program 983 ends at Garnet; criteria say 5,999 more current points.
    default = program_details(
        program_id=973,
        title="DocDemoDefaultProgram",
        description="Default program for DocDemo",
        tiers=["Topaz", "Coral", "Garnet", "Ruby", "Diamond"],
        slab_sno=1,
        slab_expiry="2124-08-27T23:59:59Z",
        loyalty_id=143_061_498,
        purchases=10200.0,
        lifetime=1020.0,
        redeemed=20.0,
    )
    group = program_details(
        program_id=983,
        title="Group Loyalty Program",
        description="Loyalty program for groups",
        tiers=["Topaz", "Coral", "Garnet", "Ruby"],
        slab_sno=3,
        slab_expiry="2121-11-10T23:59:59Z",
        loyalty_id=143_061_498,
        purchases=10200.0,
        lifetime=1000.0,
    )
    tracker = {
        "trackerName": "DowngradeTracker",
        "trackerType": "LINEITEM_COUNT",
        "trackerMode": "MOVING_WINDOW",
        "trackerCaseName": "Case1",
        "trackerCasePeriodType": "DAYS",
        "trackerCasePeriodValue": 5,
    }
    return [
        Program(default, [UpgradeSpec("CUMULATIVE_PURCHASES", 25000.0, 10200.0, 40.0, 200)]),
        Program(
            group,
            [UpgradeSpec("CURRENT_POINTS", 6999.0, 1000.0, 12.5, 120)],
            RenewSpec(
                date(2121, 11, 10), False, [RenewStrategy("TRACKER", 5.0, 1.0, -0.02, [tracker])]
            ),
        ),
    ]


def build_seed(customer_id: int, today: date) -> Customer:
    """Return a documented customer: the doc's payload plus generated embed blocks."""
    base = loads_exact(documented_text(customer_id))
    extras = {key: base.pop(key) for key in _FLAG_KEYS if key in base}
    progs = _seed_programs(customer_id, today)
    if not extras:
        extras = {
            "optinStatus": "OPTED_IN",
            "slabHistory": [
                {
                    "from": "Coral",
                    "to": "Garnet",
                    "fromTierExpiryDate": "2126-02-28T23:59:59Z",
                    "toTierExpiryDate": "2126-09-23T23:59:59Z",
                    "changedOn": "2025-09-23T12:31:51Z",
                    "notes": "Upgrading to Slab : Slab[3]: Name [purchases] Description [cumulative purchases] , Criteria: Primary",
                    "store": {"code": "doc123", "name": "DocStore"},
                    "type": "UPGRADE",
                    "programId": 973,
                },
            ],
            "tierUpgradeCriteria": {
                "purchaseType": "CUMULATIVE_PURCHASES",
                "description": "purchase required for slab upgradation based on cumulative purchases",
                "purchaseValue": 28650.0,
            },
            "ndncStatus": "NONE",
            "membershipRetentionCriteria": {
                "minPurchases": 50000.0,
                "minVisits": 2,
                "isDownGradeStrategy": True,
            },
        }
    mobile = base["profiles"][0]["identifiers"][0]["value"]
    barcodes = [("mobile", mobile)] + [
        ("cardNumber", c["cardNumber"]) for c in base["cardDetails"]
    ][:2]
    return Customer(
        id=customer_id,
        base=base,
        programs=progs,
        points_summary=points_summary_of(progs[0].details),
        barcodes=barcodes,
        upgrade_key="upgradeBasedOn",
        build_blocks=partial(_seed_blocks, customer_id, today, progs, extras),
    )


def _seed_blocks(
    customer_id: int, today: date, progs: list[Program], extras: dict[str, Any]
) -> Blocks:
    """Return a documented customer's on-demand blocks: the doc's flag blocks plus generated ones."""
    ctx = Ctx(customer_id, random.Random(customer_id), today, UTC, "typical")
    return Blocks(
        extras=extras,
        segments={
            "Activity segment": "Active",
            "Value segment": "High" if customer_id == 566881933 else "Low",
        },
        subscriptions=blocks.subscriptions(ctx, False),
        promotional_points=blocks.promotional_points(ctx, progs),
        expiry_schedules=blocks.expiry_schedules(ctx, progs),
        expired_points=blocks.expired_points(ctx, progs),
        returned_points=blocks.returned_points(ctx, progs),
        image={
            "fileHandle": "01a24b35-f1fa-4dc3-bbce-ab9bc5094e2c",
            "fileSize": "209859",
            "lastModified": "2025-04-30 12:25:56",
            "version": 1,
        },  # fmt: skip
        user_groups=blocks.user_groups(ctx, progs, 2),
        fraud=blocks.fraud(ctx, False),
    )
