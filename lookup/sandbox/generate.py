"""Deterministic on-demand generation of the sandbox's 10,000-customer population."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from datetime import UTC, date, timedelta
from typing import Any

from . import blocks
from .blocks import Ctx
from .identifiers import card_id_for, email_of, external_id_of, martjack_email_of, mobile_of
from .jsonout import raw_number
from .model import IST, Blocks, Customer, Program, day_start, points_summary_of
from .pools import (
    ARABIC_CITIES,
    ARABIC_FIRST,
    ARABIC_LAST,
    ARCHETYPES,
    CARD_LABEL_IDS,
    CARD_SERIES,
    CARD_STATUSES,
    CITIES,
    CJK_CITIES,
    CJK_FIRST,
    CJK_LAST,
    EMOJI_FIRST,
    EMOJI_LAST,
    FIRST_NAMES,
    GENERATED_START,
    HOSTILE,
    LAST_NAMES,
    LONG_VALUE,
    ORG_ID,
    TILLS,
)

_MISSING = object()  # a name key left out of the profile entirely


def archetype_of(customer_id: int) -> str:
    """Return the archetype that shapes a generated customer."""
    return ARCHETYPES[(customer_id - GENERATED_START) % len(ARCHETYPES)]


def _till(ctx: Ctx) -> dict[str, Any]:
    till_id, code, name = ctx.rng.choice(TILLS)
    return {
        "id": till_id,
        "code": code,
        "name": name,
        "type": "TILL",
        "referenceId": -1,
        "default": False,
    }


def _names(ctx: Ctx) -> tuple[Any, Any]:
    rng, kind = ctx.rng, ctx.kind
    if kind == "typical":
        roll = rng.random()
        kind = (
            "hostile"
            if roll < 0.02
            else "unicode_cjk"
            if roll < 0.05
            else "empty"
            if roll < 0.08
            else kind
        )
    if kind == "unicode_cjk":
        return rng.choice(CJK_FIRST), rng.choice(CJK_LAST)
    if kind == "unicode_arabic":
        return rng.choice(ARABIC_FIRST), rng.choice(ARABIC_LAST)
    if kind == "emoji":
        return rng.choice(EMOJI_FIRST), rng.choice(EMOJI_LAST)
    if kind == "hostile":
        return HOSTILE[0], HOSTILE[1]
    if kind == "empty":
        return rng.choice(((_MISSING, _MISSING), ("", ""), ("", None)))
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def _channel(kind: str, value: str, verified: bool) -> dict[str, Any]:
    return {
        "type": kind,
        "value": value,
        "primary": True,
        "verified": verified,
        "meta": {"residence": False, "office": False},
        "attributes": {},
    }


def _profile(
    ctx: Ctx,
    source: str,
    account_id: str,
    names: tuple[Any, Any],
    identifiers: list[dict[str, Any]],
    channels: list[dict[str, Any]],
) -> dict[str, Any]:
    created = ctx.past(2000, 200)
    modified = created + timedelta(days=ctx.rng.randint(0, 150))
    profile: dict[str, Any] = {}
    if names[0] is not _MISSING:
        profile["firstName"] = names[0]
    if names[1] is not _MISSING:
        profile["lastName"] = names[1]
    fields: dict[str, Any] = {}
    if ctx.kind == "hostile":
        fields = {"favourite_store": HOSTILE[2], "remarks": HOSTILE[3]}
    elif ctx.rng.random() < 0.3:
        fields = {
            "age_group": "\u201c22-25\u201d",
            "preferred_language": ctx.rng.choice(("en", "hi", "zh", "ar")),
        }
    profile.update(
        {
            "attribution": {
                "createDate": ctx.stamp(created),
                "createdBy": _till(ctx),
                "modifiedBy": _till(ctx),
                "modifiedDate": ctx.stamp(modified),
            },
            "fields": fields,
            "allFields": {},
            "identifiers": identifiers,
            "commChannels": channels,
            "source": source,
            "userId": ctx.cid,
            "accountId": account_id,
            "conflictingProfileList": [],
            "autoUpdateTime": ctx.stamp(modified + timedelta(hours=6)),
            "identifiersAll": [{"type": i["type"], "value": i["value"]} for i in identifiers],
        }
    )
    return profile


def _card(ctx: Ctx, index: int, status: str, expiry: date | None, with_iso: bool) -> dict[str, Any]:
    rng = ctx.rng
    card_id = card_id_for(ctx.cid, index)
    series_id, series_code, series_name = rng.choice(CARD_SERIES)
    if ctx.kind == "hostile":
        series_name = HOSTILE[index % len(HOSTILE)] if index < 2 else LONG_VALUE
    created = ctx.past(900, 40)
    issued = created + timedelta(minutes=rng.randint(1, 600))
    changed = issued + timedelta(days=rng.randint(0, 30))
    digital = rng.random() < 0.7
    card: dict[str, Any] = {
        "cardId": card_id,
        "issuedDate": ctx.stamp(issued),
        "createdDate": created.date().isoformat(),
    }
    if with_iso:
        card["createdDateTimeISO"] = ctx.stamp(created)
    card.update(
        {
            "expiryDays": ctx.num(1000.0) if ctx.string_numbers else 1000,
            "seriesName": series_name,
            "customerId": ctx.cid,
            "maxActiveCards": rng.choice((1, 5, 60)),
        }
    )
    if rng.random() < 0.4:
        card["cardExternalId"] = f"CardExternal{card_id}"
    if rng.random() < 0.3:
        card["extendedFields"] = {
            "custom_card_name": ctx.hostile("TOM"),
            "vehicle_number": "KA01B2020",
        }
    card["customFields"] = {"vehicle_type": "Bike"} if rng.random() < 0.2 else {}
    label = {"LOST": "STOLEN"}.get(status, status) if rng.random() < 0.3 else status
    status_info: dict[str, Any] = {
        "reason": "" if status == "ACTIVE" else rng.choice(("", "Customer request", "Fraud check")),
        "createdBy": card_id,
        "actions": [],
        "autoUpdateTime": changed.date().isoformat(),
    }
    if with_iso:
        status_info["autoUpdateTimeISO"] = ctx.stamp(changed)
    status_info.update(
        {
            "createdOn": ctx.stamp(issued),
            "entityId": card_id,
            "id": 28_000_000 + card_id,
            "isActive": status == "ACTIVE",
            "labelId": CARD_LABEL_IDS[status],
            "label": label,
            "status": status,
        }
    )
    card.update(
        {
            "type": "DIGITAL" if digital else "PHYSICAL",
            "cardNumber": f"{series_code}{card_id:012d}",
            "seriesId": series_id,
            "seriesCode": series_code,
            "orgId": ORG_ID,
            "entityId": rng.choice(TILLS)[0],
            "statusInfo": status_info,
            "id": card_id,
            "transactionNotAllowed": status != "ACTIVE" or rng.random() < 0.5,
        }
    )
    if expiry is not None:
        card["activeAndDigital"] = status == "ACTIVE" and digital
        card["expiryDate"] = ctx.stamp(day_start(expiry))
    return card


def _cards(ctx: Ctx, count: int, every_status: bool) -> list[dict[str, Any]]:
    rng = ctx.rng
    cards = []
    for index in range(count):
        if every_status:
            status = CARD_STATUSES[index % len(CARD_STATUSES)]
        else:
            status = rng.choice(("ACTIVE", "ACTIVE", "ACTIVE", *CARD_STATUSES[1:]))
        roll = rng.random()
        if (every_status and index % 3 == 0) or roll < 0.15:
            expiry: date | None = ctx.today + timedelta(days=rng.randint(1, 29))  # expiring soon
        elif roll < 0.25:
            expiry = ctx.today - timedelta(days=rng.randint(1, 300))
        elif roll < 0.8:
            expiry = ctx.today + timedelta(days=rng.randint(30, 1000))
        else:
            expiry = None
        with_iso = index % 2 == 0 if every_status else rng.random() < 0.6
        cards.append(_card(ctx, index, status, expiry, with_iso))
    return cards


def _plan(ctx: Ctx) -> dict[str, Any]:
    rng, kind = ctx.rng, ctx.kind
    plan: dict[str, Any] = {
        "programs": rng.choice((0, 1, 1, 1, 2, 2, 3, 4)),
        "cards": rng.choice((0, 0, 1, 1, 2, 3, 5)),
        "groups": rng.choice((0, 0, 0, 1, 2, 5)),
        "history": rng.randint(0, 6),
        "wechat": rng.choice((0, 0, 0, 1, 1, 2)),
        "line": rng.random() < 0.25,
        "martjack": rng.random() < 0.15,
        "instore": True,
        "fraud": rng.random() < 0.05,
        "downgrade": rng.random() < 0.75,
        "top_level": rng.random() < 0.12,
        "null_loyalty": rng.random() < 0.04,
        "no_cards_key": rng.random() < 0.05,
    }
    if kind != "typical":
        plan.update(
            fraud=False, top_level=False, null_loyalty=False, no_cards_key=False, downgrade=True
        )
    plan["need_next"] = plan["need_renew"] = kind in ("top_level_gaps", "many_programs")
    overrides: dict[str, dict[str, Any]] = {
        "many_programs": {"programs": 4},
        "no_programs": {"programs": 0, "history": 0},
        "empty": {
            "programs": 0,
            "cards": 0,
            "groups": 0,
            "history": 0,
            "wechat": 0,
            "line": False,
            "martjack": False,
            "null_loyalty": True,
            "no_cards_key": True,
        },
        "hostile": {"programs": 2, "cards": 3, "groups": 3, "history": 6},
        "many_cards": {"cards": rng.randint(15, 20)},
        "long_history": {"programs": max(2, plan["programs"]), "history": rng.randint(30, 40)},
        "paged_groups": {"groups": rng.randint(45, 60)},
        "fraud": {"fraud": True},
        "top_level_gaps": {"programs": max(1, plan["programs"]), "top_level": True},
        "no_downgrade": {"programs": max(1, plan["programs"]), "downgrade": False},
        "multi_source": {"wechat": 2, "line": True, "martjack": True},
        "no_instore": {"instore": False, "wechat": 1},
        "fault": {"programs": max(1, plan["programs"])},
    }
    plan.update(overrides.get(kind, {}))
    return plan


def _begin(
    customer_id: int, today: date, kind: str | None
) -> tuple[Ctx, dict[str, Any], tuple[Any, Any]]:
    """Return the generation state, the plan and the names: the first, cheap draws."""
    rng = random.Random(customer_id)
    kind = kind or archetype_of(customer_id)
    tz = IST if rng.random() < 0.2 else UTC
    ctx = Ctx(customer_id, rng, today, tz, kind)
    ctx.string_numbers = kind == "string_numbers" or (kind == "typical" and rng.random() < 0.03)
    plan = _plan(ctx)
    return ctx, plan, _names(ctx)


def search_entry(customer_id: int, today: date, kind: str | None = None) -> dict[str, Any]:
    """Return what name search matches on: first and last name per source (no full build)."""
    ctx, plan, (first, last) = _begin(customer_id, today, kind)
    sources = [("INSTORE", "")] if plan["instore"] else []
    sources += [("WECHAT", f"wx-acc-{n + 1}") for n in range(plan["wechat"])]
    sources += [("LINE", "line-acc-1")] if plan["line"] else []
    sources += [("MARTJACK", "")] if plan["martjack"] else []
    first, last = (n if isinstance(n, str) else "" for n in (first, last))
    return {"id": customer_id, "first": first, "last": last, "sources": sources}


def build_generated(customer_id: int, today: date, kind: str | None = None) -> Customer:
    """Build generated customer ``customer_id`` as of ``today`` (same inputs, same customer)."""
    ctx, plan, names = _begin(customer_id, today, kind)
    rng, kind = ctx.rng, ctx.kind
    progs = blocks.programs(ctx, plan["programs"], plan["need_next"], plan["need_renew"])
    cards = _cards(ctx, plan["cards"], kind == "many_cards")

    rng.randint(7_000_000_000, 9_999_999_999)  # was the mobile; kept so later draws stay put
    mobile = mobile_of(customer_id, kind)
    email = email_of(customer_id)
    profiles = []
    if plan["instore"]:
        identifiers = (
            []
            if kind == "empty"
            else [
                {"type": "mobile", "value": mobile},
                {"type": "email", "value": email},
                {"type": "externalId", "value": external_id_of(customer_id)},
            ]
        )
        identifiers += [
            {
                "type": "cardNumber",
                "value": c["cardNumber"],
                "seriesId": c["seriesId"],
                "statusLabel": c["statusInfo"]["label"],
            }
            for c in cards
            if c["statusInfo"]["status"] == "ACTIVE"
        ]
        channels = (
            []
            if kind == "empty"
            else [
                _channel("mobile", mobile, rng.random() < 0.5),
                _channel("email", email, rng.random() < 0.3),
            ]
        )
        profiles.append(_profile(ctx, "INSTORE", "", names, identifiers, channels))
    for n in range(plan["wechat"]):
        openid = "oj" + "".join(
            rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
            for _ in range(26)
        )
        nick = (LONG_VALUE, names[1]) if kind == "hostile" else names
        profiles.append(
            _profile(
                ctx,
                "WECHAT",
                f"wx-acc-{n + 1}",
                nick,
                [{"type": "wechat", "value": openid}],
                [_channel("wechat", openid, True)],
            )
        )
    if plan["line"]:
        line_id = "U" + "".join(rng.choice("0123456789abcdef") for _ in range(32))
        profiles.append(
            _profile(ctx, "LINE", "line-acc-1", names, [{"type": "line", "value": line_id}], [])
        )
    if plan["martjack"]:
        profiles.append(
            _profile(
                ctx,
                "MARTJACK",
                "",
                names,
                [{"type": "email", "value": martjack_email_of(customer_id)}],
                [_channel("email", martjack_email_of(customer_id), True)],
            )
        )

    purchases = (
        sum(float(p.details["cumulativePurchases"]) for p in progs)
        if progs
        else round(rng.uniform(0, 5000), 2)
    )
    if ctx.string_numbers:
        lifetime: Any = f"{purchases:.2f}"
    elif rng.random() < 0.5:
        lifetime = raw_number(f"{purchases:.3f}")  # Capillary writes e.g. 221350.000
    else:
        lifetime = round(purchases, 2)
    created = ctx.past(2000, 200)
    loyalty_info: dict[str, Any] | None = {
        "loyaltyType": "loyalty" if progs else "non_loyalty",
        "attributionV2": {
            "createDate": ctx.stamp(created),
            "createdBy": _till(ctx),
            "modifiedBy": _till(ctx),
            "modifiedDate": ctx.stamp(created + timedelta(days=rng.randint(0, 150))),
            "createdFromSource": "instore",
        },
        "lifetimePurchases": lifetime,
    }
    if plan["null_loyalty"]:
        loyalty_info = None

    city_pool = {"unicode_cjk": CJK_CITIES, "unicode_arabic": ARABIC_CITIES}.get(kind, CITIES)
    extended: dict[str, Any] = {}
    if kind == "hostile":
        extended = {
            "city": HOSTILE[2],
            "notes": HOSTILE[3],
            "bio": LONG_VALUE,
            "nickname": HOSTILE[4],
            "website": HOSTILE[5],
        }
    elif kind != "empty":
        extended = {
            "city": rng.choice(city_pool),
            "gender": rng.choice(("Male", "Female", "Other", None)),
        }
        if rng.random() < 0.5:
            extended["dob"] = (
                None
                if rng.random() < 0.3
                else f"{rng.randint(1950, 2005)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T00:00:00Z"
            )
    base: dict[str, Any] = {
        "id": customer_id,
        "profiles": profiles,
        "loyaltyInfo": loyalty_info,
        "segments": {},
        "associatedWith": rng.choice(TILLS)[1],
        "extendedFields": extended,
        "cardDetails": cards,
        "warnings": [],
    }
    if kind == "empty":
        del base["associatedWith"]
    if plan["no_cards_key"]:
        del base["cardDetails"]

    if progs:
        summary: dict[str, Any] | None = points_summary_of(progs[0].details)
    elif kind == "empty":
        summary = None
    else:
        zero = ctx.num(0.0)
        summary = {
            "adjusted": zero, "cumulativePurchases": zero, "currentSlab": "", "expired": zero,
            "lifetimePoints": zero, "loyaltyId": -1, "loyaltyPoints": zero, "nextSlab": "",
            "nextSlabDescription": "", "nextSlabSerialNumber": -1, "redeemed": zero, "returned": zero,
            "slabExpiryDate": "", "slabSNo": -1,
        }  # fmt: skip
    barcodes = [] if kind == "empty" else [("mobile", mobile)]
    barcodes += [
        ("cardNumber", c["cardNumber"]) for c in cards if c["statusInfo"]["status"] == "ACTIVE"
    ][:2]
    return Customer(
        id=customer_id,
        base=base,
        programs=progs,
        points_summary=summary,
        barcodes=barcodes,
        gaps_top_level=plan["top_level"],
        renew_as_list=plan["top_level"] and (customer_id // 20) % 3 == 0,
        upgrade_key="upgrade_based_on" if (customer_id // 20) % 2 else "upgradeBasedOn",
        org_id=ORG_ID,
        build_blocks=_blocks_later(ctx, progs, plan),
    )


def _blocks_later(ctx: Ctx, progs: list[Program], plan: dict[str, Any]) -> Callable[[], Blocks]:
    """Return a builder of the on-demand blocks that builds them once, on its first call.

    The blocks are the last thing a customer draws from its random generator and nothing
    else draws from it afterwards, so building them later gives exactly what building them
    now would. The lock keeps two threads from drawing from the generator at once.
    """
    lock = threading.Lock()
    built: list[Blocks] = []

    def build() -> Blocks:
        with lock:
            if not built:
                built.append(_blocks(ctx, progs, plan))
            return built[0]

    return build


def _blocks(ctx: Ctx, progs: list[Program], plan: dict[str, Any]) -> Blocks:
    """Build the on-demand blocks (the draws' order is part of every customer's identity)."""
    rng, kind = ctx.rng, ctx.kind
    extras: dict[str, Any] = {
        "optinStatus": rng.choice(("OPTED_IN", "OPTED_OUT", "NONE")),
        "ndncStatus": rng.choice(("NONE", "NONE", "NDNC", "DND")),
        "slabHistory": blocks.slab_history(ctx, progs, plan["history"]),
    }
    criteria = blocks.tier_criteria(ctx, progs)
    if criteria is not None:
        extras["tierUpgradeCriteria"] = criteria
    retention = blocks.retention(ctx, progs, plan["downgrade"])
    if retention is not None:
        extras["membershipRetentionCriteria"] = retention
    image = None
    if rng.random() < 0.6 and kind != "empty":
        bits = [rng.getrandbits(n) for n in (32, 16, 12, 12, 48)]
        handle = f"{bits[0]:08x}-{bits[1]:04x}-4{bits[2]:03x}-a{bits[3]:03x}-{bits[4]:012x}"
        modified = ctx.past(300, 1)
        image = {"fileHandle": handle, "fileSize": str(rng.randint(20_000, 400_000)),
                 "lastModified": modified.strftime("%Y-%m-%d %H:%M:%S"), "version": rng.randint(1, 3)}  # fmt: skip
    return Blocks(
        extras=extras,
        segments=blocks.segments(ctx) if kind != "empty" else {},
        subscriptions=blocks.subscriptions(ctx, plan["wechat"] > 0),
        promotional_points=blocks.promotional_points(ctx, progs),
        expiry_schedules=blocks.expiry_schedules(ctx, progs),
        expired_points=blocks.expired_points(ctx, progs),
        returned_points=blocks.returned_points(ctx, progs),
        image=image,
        user_groups=blocks.user_groups(ctx, progs, plan["groups"]),
        fraud=blocks.fraud(ctx, plan["fraud"]),
    )
