"""Generators for the loyalty-side blocks of a generated customer (programs, tiers, groups)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from .model import Program, RenewSpec, RenewStrategy, UpgradeSpec, day_start, iso, program_details
from .pools import (
    CRITERIA_TEXT,
    FRAUD_STATUSES,
    GROUP_NAMES,
    HISTORY_NOTES,
    HOSTILE,
    LONG_VALUE,
    POINTS_TYPES,
    PROGRAMS,
    RENEW_KINDS,
    SEGMENTS,
    STORES,
    TILLS,
    TRACKER_MODES,
    TRACKER_TYPES,
    UPGRADE_KINDS,
)

PROGRAMS_BY_ID = {p[0]: p[3] for p in PROGRAMS}


@dataclass
class Ctx:
    """Per-customer generation state shared by the block generators."""

    cid: int
    rng: random.Random
    today: date
    tz: timezone
    kind: str
    string_numbers: bool = False

    def num(self, value: float) -> float | str:
        """Return a money/points value, as a string like "120.50" for string-number customers."""
        return f"{value:.2f}" if self.string_numbers else round(value, 2)

    def past(self, max_days: int, min_days: int = 0) -> datetime:
        """Return a moment between ``min_days`` and ``max_days`` days before today."""
        days = self.rng.randint(min_days, max_days)
        return day_start(self.today) - timedelta(days=days, seconds=self.rng.randint(0, 86399))

    def stamp(self, moment: datetime) -> str:
        """Return ``moment`` in this customer's cluster time zone."""
        return iso(moment, self.tz)

    def hostile(self, fallback: str) -> str:
        """Return a hostile string for hostile customers, else ``fallback``."""
        return self.rng.choice(HOSTILE) if self.kind == "hostile" else fallback


def _upgrades(ctx: Ctx, tiers_left: int, points: float, purchases: float) -> list[UpgradeSpec]:
    rng = ctx.rng
    if tiers_left <= 0:
        return []
    specs = []
    for based_on in rng.sample(UPGRADE_KINDS, 2 if rng.random() < 0.2 else 1):
        # Thresholds sit above today's value so the gap is what the member still needs.
        if based_on == "CUMULATIVE_PURCHASES":
            value, rate = purchases, rng.uniform(40, 400)
            threshold = float(
                round(value + rng.choice((5000, 25000, 100000)) * rng.uniform(0.1, 1), -3)
            )
        elif based_on == "CURRENT_POINTS":
            value, rate = max(points, 0.0), rng.uniform(5, 60)
            threshold = float(
                round(value + rng.choice((999, 2000, 5999, 20000)) * rng.uniform(0.1, 1), -1)
            )
        else:
            threshold, rate = float(rng.choice((5, 10, 24, 50))), rng.uniform(0.05, 0.5)
            value = round(threshold * rng.uniform(0.05, 0.95), 2)
        threshold = max(threshold, round(value, 2) + 1)
        specs.append(
            UpgradeSpec(based_on, threshold, round(value, 2), round(rate, 3), rng.randint(30, 400))
        )
    return specs


def _trackers(ctx: Ctx) -> list[dict[str, Any]]:
    rng = ctx.rng
    return [
        {
            "trackerName": rng.choice(("DowngradeTracker", "RetentionTracker", "VisitTracker")),
            "trackerType": rng.choice(TRACKER_TYPES),
            "trackerMode": rng.choice(TRACKER_MODES),
            "trackerCaseName": f"Case{i + 1}",
            "trackerCasePeriodType": rng.choice(("DAYS", "MONTHS")),
            "trackerCasePeriodValue": rng.choice((5, 30, 90, 365)),
        }
        for i in range(rng.randint(1, 2))
    ]


def _renew(ctx: Ctx, slab_sno: int) -> RenewSpec | None:
    rng = ctx.rng
    if slab_sno <= 1:
        return None  # no renewal summary in the base slab
    strategies = []
    for based_on in rng.sample(RENEW_KINDS, rng.randint(0, 2)):
        threshold = float(rng.choice((5, 10, 2000, 10000)))
        value = round(threshold * rng.uniform(0.0, 1.1), 2)
        trackers = _trackers(ctx) if based_on == "TRACKER" else []
        drop = -round(threshold * rng.uniform(0.001, 0.02), 3)
        strategies.append(RenewStrategy(based_on, threshold, value, drop, trackers))
    expiry = ctx.today + timedelta(days=rng.randint(10, 400))
    return RenewSpec(expiry, rng.random() < 0.2, strategies)


def programs(
    ctx: Ctx, count: int, need_next: bool = False, need_renew: bool = False
) -> list[Program]:
    """Return ``count`` program memberships; optionally force an upgrade and a renewal rule."""
    rng = ctx.rng
    chosen = [PROGRAMS[0], *rng.sample(PROGRAMS[1:], count - 1)] if count else []
    loyalty_id = 140_000_000 + ctx.cid % 10_000_000
    result = []
    for index, (program_id, title, description, tiers) in enumerate(chosen):
        sno = rng.randint(1, len(tiers))
        if index == 0 and need_next:
            sno = min(max(sno, 2 if need_renew else 1), len(tiers) - 1)
        elif index == 0 and need_renew:
            sno = max(sno, 2)
        purchases = round(rng.uniform(0, 300000), 2)
        lifetime = round(purchases * rng.choice((0.01, 0.05, 0.1)), 0)
        redeemed = round(lifetime * rng.uniform(0, 0.5), 0)
        expired = round(lifetime * rng.uniform(0, 0.1), 0)
        returned = round(lifetime * rng.uniform(0, 0.05), 0)
        if sno == 1 and rng.random() < 0.5:
            slab_expiry = "2125-11-19T23:59:59Z"  # "never expires"
        else:
            end = day_start(ctx.today + timedelta(days=rng.randint(5, 700)))
            slab_expiry = ctx.stamp(end.replace(hour=23, minute=59, second=59))
        partners = []
        if rng.random() < 0.15:
            partners.append(
                {
                    "partnerProgramId": 77,
                    "partnerProgramName": "SkyHigh Miles",
                    "partnerProgramDescription": "Airline partner",
                    "partnerTierNumber": 2,
                    "partnerTierName": "Silver",
                    "partnerTierExpiryDate": slab_expiry,
                    "partnerMembershipId": f"SH{ctx.cid % 1_000_000:06d}",
                    "partnerProgramType": "EXTERNAL",
                    "tierBased": True,
                }
            )
        details = program_details(
            program_id=program_id,
            title=ctx.hostile(title) if index == 1 else title,
            description=description,
            tiers=list(tiers),
            slab_sno=sno,
            slab_expiry=slab_expiry,
            loyalty_id=loyalty_id,
            purchases=purchases,
            lifetime=lifetime,
            redeemed=redeemed,
            expired=expired,
            returned=returned,
            adjusted=float(rng.choice((0, 0, 0, 50, -25))),
            delayed=float(rng.choice((0, 0, 100, 4000))),
            partners=partners,
            number=ctx.num,
        )
        upgrades = _upgrades(
            ctx, len(tiers) - sno, lifetime - redeemed - expired - returned, purchases
        )
        result.append(Program(details, upgrades, _renew(ctx, sno)))
    return result


def slab_history(ctx: Ctx, progs: list[Program], count: int) -> list[dict[str, Any]]:
    """Return ``count`` tier changes spread over ``progs``, newest first, ending at each current slab."""
    rng = ctx.rng
    if not progs or count <= 0:
        return []
    entries = []
    per_program = [
        count // len(progs) + (1 if i < count % len(progs) else 0) for i in range(len(progs))
    ]
    for prog, steps in zip(progs, per_program, strict=True):
        tiers = PROGRAMS_BY_ID[prog.details["programId"]]
        state = prog.details["slabSNo"] - 1
        moment = ctx.past(40, 1)
        to_expiry = day_start(ctx.today + timedelta(days=rng.randint(100, 700)))
        for _ in range(steps):
            if state > 0 and rng.random() < 0.55:
                kind, before = "UPGRADE", state - 1
            elif state < len(tiers) - 1 and rng.random() < 0.5:
                kind, before = "DOWNGRADE", state + 1
            else:
                kind, before = "RENEWAL", state
            from_expiry = moment + timedelta(days=rng.randint(0, 60))
            note = rng.choice(HISTORY_NOTES[kind]).format(n=state + 1)
            if ctx.kind == "hostile" and rng.random() < 0.5:
                note = rng.choice((*HOSTILE, LONG_VALUE))
            elif ctx.kind == "unicode_cjk":
                note = f"{note}（等级变更）"
            entry: dict[str, Any] = {
                "from": tiers[before],
                "to": tiers[state],
                "fromTierExpiryDate": ctx.stamp(from_expiry.replace(hour=23, minute=59, second=59)),
            }
            if rng.random() < 0.7:
                entry["toTierExpiryDate"] = ctx.stamp(
                    to_expiry.replace(hour=23, minute=59, second=59)
                )
            code, name = rng.choice(STORES)
            entry.update(
                {
                    "changedOn": ctx.stamp(moment),
                    "notes": note,
                    "store": {"code": code, "name": name},
                    "type": kind,
                    "programId": prog.details["programId"],
                }
            )
            entries.append(entry)
            to_expiry = from_expiry
            state = before
            moment -= timedelta(days=rng.randint(10, 120), seconds=rng.randint(0, 86399))
    entries.sort(key=lambda e: e["changedOn"], reverse=True)
    return entries


def tier_criteria(ctx: Ctx, progs: list[Program]) -> dict[str, Any] | None:
    """Return ``tierUpgradeCriteria`` for the default program, or None without programs."""
    if not progs:
        return None
    first = progs[0]
    if first.upgrades:
        spec = first.upgrades[0]
        kind = spec.based_on
        value = round(max(0.0, spec.threshold - spec.value_today), 2)
    else:
        kind, value = ctx.rng.choice(("CUMULATIVE_POINTS", "CURRENT_POINTS")), 0.0
    return {"purchaseType": kind, "description": CRITERIA_TEXT[kind], "purchaseValue": value}


def retention(ctx: Ctx, progs: list[Program], downgrade: bool) -> dict[str, Any] | None:
    """Return ``membershipRetentionCriteria``, or None when no downgrade strategy exists."""
    if not progs or not downgrade:
        return None
    rng = ctx.rng
    return {
        "minPurchases": float(rng.choice((0, 5000, 25000, 100000))),
        "minVisits": rng.choice((0, 2, 6, 12)),
        "isDownGradeStrategy": True,
    }


def user_groups(ctx: Ctx, progs: list[Program], count: int) -> list[dict[str, Any]]:
    """Return ``count`` user-group memberships (with private loyalty details)."""
    rng = ctx.rng
    groups = []
    for i in range(count):
        joined = ctx.past(1500, 1)
        name = f"{rng.choice(GROUP_NAMES)} {i + 1}"
        if ctx.kind == "hostile" and i % 2 == 0:
            name = rng.choice(HOSTILE)
        elif ctx.kind == "unicode_cjk":
            name = f"家庭 {i + 1}"
        group_id = 3_900_000 + (ctx.cid % 100_000) * 64 + i
        loyalty = [
            {
                "programId": p.details["programId"],
                "programTitle": p.details["programTitle"],
                "currentSlab": p.details["currentSlab"],
                "slabSNo": p.details["slabSNo"],
                "loyaltyPoints": ctx.num(rng.uniform(0, 50000)),
                "lifetimePoints": ctx.num(rng.uniform(0, 90000)),
                "pointsContributionToGroup": ctx.num(rng.uniform(0, 5000)),
            }
            for p in progs
        ]
        groups.append(
            {
                "id": group_id,
                "name": name,
                "externalId": f"ug_{group_id}",
                "role": "PRIMARY" if i == 0 or rng.random() < 0.2 else "SECONDARY",
                "joinedDate": ctx.stamp(joined),
                "status": "INACTIVE" if rng.random() < 0.15 else "ACTIVE",
                "loyaltyDetails": loyalty,
            }
        )
    return groups


def fraud(ctx: Ctx, flagged: bool) -> dict[str, Any]:
    """Return the ``fraudDetails`` block."""
    rng = ctx.rng
    if not flagged:
        return {"markedBy": {}, "modifiedOn": ctx.stamp(ctx.past(900, 30)), "status": "NOT_FRAUD"}
    till_id, code, name = rng.choice(TILLS)
    return {
        "markedBy": {"id": till_id, "code": code, "name": name},
        "modifiedOn": ctx.stamp(ctx.past(60, 1)),
        "status": rng.choice(FRAUD_STATUSES),
    }


def segments(ctx: Ctx) -> dict[str, str]:
    """Return the segment name -> partition map for embed=segments."""
    rng = ctx.rng
    result = {name: rng.choice(values) for name, values in SEGMENTS.items() if rng.random() < 0.7}
    if ctx.kind == "hostile":
        result[HOSTILE[0]] = HOSTILE[1]
    return result


def subscriptions(ctx: Ctx, wechat: bool) -> list[dict[str, Any]]:
    """Return ``subscriptionInfo.subscriptions``."""
    rng = ctx.rng
    channels = ["EMAIL", "SMS", "ANDROID", "IOS"] + (["WECHAT"] if wechat else [])
    return [
        {
            "channel": channel,
            "priority": priority,
            "type": "OPTIN" if rng.random() < 0.75 else "OPTOUT",
        }
        for priority in ("TRANS", "BULK")
        for channel in channels
    ]


def promotional_points(ctx: Ctx, progs: list[Program]) -> dict[str, list[dict[str, Any]]]:
    """Return the ``promotionalPoints`` block."""
    rng = ctx.rng
    program_ids = [p.details["programId"] for p in progs] or [973]

    def entry() -> dict[str, Any]:
        issued = ctx.past(300, 1)
        code, name = rng.choice(STORES)
        source = rng.choice(("GOODWILL", "LOYALTY_PROMOTION", "REFERRAL"))
        return {
            "points": ctx.num(float(rng.choice((20, 34, 100, 200, 500)))),
            "issuedAt": {"code": code, "name": name},
            "issuedOn": ctx.stamp(issued),
            "expiryDate": ctx.stamp(issued + timedelta(days=365)),
            "promotionSource": {
                "promotionSourceId": rng.choice((-1, 4410, 5021)),
                "promotionSourceType": source,
            },
            "programId": rng.choice(program_ids),
            "promotionName": rng.choice(
                ("Goodwill Promotion", "Birthday bonus", "Double points weekend")
            ),
        }

    kinds = ("customerPromotionType", "transactionPromotionType", "lineitemPromotionType")
    return {kind: [entry() for _ in range(rng.randint(0, 3))] for kind in kinds}


def expiry_schedules(ctx: Ctx, progs: list[Program]) -> list[dict[str, Any]]:
    """Return ``expirySchedules`` sorted by date."""
    rng = ctx.rng
    if not progs:
        return []
    with_iso = rng.random() < 0.85
    result = []
    for _ in range(rng.randint(0, 4)):
        day = ctx.today + timedelta(days=rng.randint(1, 400))
        entry: dict[str, Any] = {
            "points": ctx.num(rng.uniform(10, 5000)),
            "expiryDate": day.isoformat(),
        }
        if with_iso:
            entry["expiryDateISO"] = ctx.stamp(day_start(day))
        entry.update(
            {
                "programId": rng.choice(progs).details["programId"],
                "pointsType": rng.choice(POINTS_TYPES),
                "expiryType": rng.choice(("fixed", "rolling")),
            }
        )
        result.append(entry)
    result.sort(key=lambda e: e["expiryDate"])
    return result


def expired_points(ctx: Ctx, progs: list[Program]) -> list[dict[str, Any]]:
    """Return ``expiredPoints`` (shape of the user-group analogue)."""
    rng = ctx.rng
    result = []
    for _ in range(rng.randint(0, 3) if progs else 0):
        expired_on = ctx.past(400, 1)
        points = ctx.num(rng.uniform(5, 800))
        result.append(
            {
                "points": points,
                "expiredOn": ctx.stamp(expired_on),
                "programId": rng.choice(progs).details["programId"],
                "expiredPointsSummary": [
                    {
                        "paType": rng.choice(("POINT_AWARDED", "POINT_AWARDED_LINEITEM")),
                        "paId": rng.randint(10_000_000, 99_999_999),
                        "expiryUpdateReasonType": "EXPIRY",
                        "expiryUpdateReasonNote": ctx.hostile("Points expired"),
                        "newExpiryDate": ctx.stamp(expired_on),
                        "eventDate": ctx.stamp(expired_on - timedelta(days=365)),
                        "points": points,
                        "strategyName": "Default expiry strategy",
                    }
                ],
            }
        )
    return result


def returned_points(ctx: Ctx, progs: list[Program]) -> list[dict[str, Any]]:
    """Return ``returnedPoints``: points reverted by returned bills."""
    rng = ctx.rng
    return [
        {
            "points": ctx.num(rng.uniform(1, 300)),
            "returnedOn": ctx.stamp(ctx.past(300, 1)),
            "programId": rng.choice(progs).details["programId"],
            "billNumber": f"BILL-{rng.randint(100000, 999999)}",
        }
        for _ in range(rng.randint(0, 3) if progs else 0)
    ]
