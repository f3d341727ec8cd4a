"""One upstream call for several parts: merge their queries, then slice the answer per part.

Capillary answers several embeds and flags in one call (`embed=points,mlp&slabHistory=true`),
and each adds its own top-level blocks to the same customer record. A view's parts that
can share a call are merged into one query (`plan`); the answer is cut back into what each
part's own call would have returned (`split`): its blocks, the customer's ID and the
warnings that concern it. Parameters that change what a block holds (gap days, user-group
paging, only the current profile) keep two parts apart when they differ.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from typing import Any

from lookup.capillary import CustomerQuery

# The record itself (profiles, loyaltyInfo, cards, extended fields...): every key no
# embed or flag claims, which a query with no embed and no block flag is after.
RECORD = "record"
GAPS = "gaps"

# Feature (an embed, a flag field, or GAPS) -> the top-level keys it adds to the answer.
# Several spellings are seen on real answers; each is claimed by the same feature.
FEATURE_KEYS: dict[str, tuple[str, ...]] = {
    "points": ("pointsSummary",),
    "mlp": ("loyaltyProgramDetails", "groupLoyaltyProgramDetails", "pointsSummaries"),
    GAPS: ("upgradeStrategies", "gapToUpgrade", "gapToRenewSummary", "gapToRenew"),
    "subscriptions": ("subscriptionInfo", "subscriptions"),
    "promotionalPoints": ("promotionalPoints",),
    "expirySchedules": ("expirySchedules",),
    "expiredPoints": ("expiredPoints",),
    "returnedPoints": ("returnedPoints",),
    "customerImage": ("customerImage", "customerImages"),
    "associatedImages": ("associatedImages",),
    "segments": ("segments",),
    "gapDetails": ("gapDetails",),
    "userGroup": ("userGroups", "userGroup", "userGroups2", "userGroup2", "groups"),
    "ug2_pagination_details": ("ug2Pagination",),
    "slab_history": ("slabHistory",),
    "tier_upgrade_criteria": ("tierUpgradeCriteria",),
    "membership_retention_criteria": ("membershipRetentionCriteria",),
    "included_fraud_details": ("fraudDetails",),
    "ndnc_status": ("ndncStatus",),
    "optin_status": ("optinStatus",),
}
# Flags that ask for the record's own extra blocks: a query with only these still wants
# the record.
RECORD_FLAGS = ("included_fraud_details", "ndnc_status", "optin_status")
BLOCK_FLAGS = (
    "slab_history",
    "tier_upgrade_criteria",
    "membership_retention_criteria",
    "ug2_pagination_details",
)
# Parameters that change what a feature's blocks hold: two parts whose values differ
# cannot share a call when either of them shows that feature.
MODIFIERS: dict[str, str] = {
    "gap_to_upgrade": "mlp",
    "gap_to_renew": "mlp",
    "included_only_current_profile": RECORD,
    "included_all_user_group2": "userGroup",
    "user_group2_id": "userGroup",
    "included_user_group2_loyalty_details": "userGroup",
    "ug2_joined_start_date": "userGroup",
    "ug2_joined_end_date": "userGroup",
    "ug2_offset": "userGroup",
    "ug2_limit": "userGroup",
    "ug2_sort_by": "userGroup",
    "ug2_sort_order": "userGroup",
}
# Capillary warning code -> the features whose blocks it is about. A warning with no
# entry (merged customer, account not passed, an unknown code) is about the record.
WARNING_FEATURES: dict[int, tuple[str, ...]] = {
    8062: ("points", "mlp"),
    91001: ("points", "mlp"),
    8063: ("segments",),
    91004: ("segments",),
    91002: ("subscriptions",),
    8076: (GAPS,),
    91013: (GAPS, "tier_upgrade_criteria", "membership_retention_criteria"),
    91014: (GAPS, "tier_upgrade_criteria", "membership_retention_criteria"),
    8082: ("customerImage",),
    8122: ("associatedImages",),
    8123: ("associatedImages",),
    8124: ("associatedImages",),
}
_FIELDS = list(dataclasses.fields(CustomerQuery))
_DEFAULTS = {
    f.name: (f.default if f.default is not dataclasses.MISSING else f.default_factory())
    for f in _FIELDS
    if f.name != "customer_id"
}
_IDENTITY = ("customer_id", "source", "account_id")


def features(query: CustomerQuery) -> frozenset[str]:
    """Return what the query asks Capillary for: its embeds, block flags, gaps, the record."""
    found = set(query.embed)
    found.update(name for name in (*RECORD_FLAGS, *BLOCK_FLAGS) if getattr(query, name))
    if query.gap_to_upgrade is not None or query.gap_to_renew is not None:
        found.add(GAPS)
    if not query.embed and not any(getattr(query, name) for name in BLOCK_FLAGS):
        found.add(RECORD)
    return frozenset(found)


def _keys(found: Iterable[str]) -> set[str]:
    return {key for feature in found for key in FEATURE_KEYS.get(feature, ())}


def merge(a: CustomerQuery, b: CustomerQuery) -> CustomerQuery | None:
    """Return one query that asks for everything either asks for, or None when they differ
    on the customer or both set one parameter to different values."""
    if any(getattr(a, name) != getattr(b, name) for name in _IDENTITY):
        return None
    changes: dict[str, Any] = {"embed": a.embed | b.embed}
    for name, default in _DEFAULTS.items():
        if name in _IDENTITY or name == "embed":
            continue
        va, vb = getattr(a, name), getattr(b, name)
        if va == vb:
            continue
        if va not in (default, None) and vb not in (default, None):
            return None
        changes[name] = vb if va in (default, None) else va
    return a.replace(**changes)


def serves(call: CustomerQuery, part: CustomerQuery) -> bool:
    """Return whether the call's answer holds exactly what the part's own call would."""
    shown = features(part)
    return all(
        getattr(part, name) == getattr(call, name)
        for name, target in MODIFIERS.items()
        if target in shown
    )


def plan(queries: Iterable[Any]) -> list[tuple[Any, list[Any]]]:
    """Group the queries into as few calls as can answer them: [(call, its parts)].

    Only the record's queries share calls; an Activity panel's query is a call of its own.
    """
    groups: list[tuple[Any, list[Any]]] = []
    for query in dict.fromkeys(queries):
        if not isinstance(query, CustomerQuery):
            groups.append((query, [query]))
            continue
        for index, (call, members) in enumerate(groups):
            merged = merge(call, query)
            if merged is not None and all(serves(merged, m) for m in (*members, query)):
                groups[index] = (merged, [*members, query])
                break
        else:
            groups.append((query, [query]))
    return groups


def _route(warnings: list[Any], parts: list[CustomerQuery]) -> dict[CustomerQuery, list[Any]]:
    """Give each warning to the parts it is about (the record's parts when it names none)."""
    shown = {part: features(part) for part in parts}
    routed: dict[CustomerQuery, list[Any]] = {part: [] for part in parts}
    for warning in warnings:
        code = warning.get("code") if isinstance(warning, Mapping) else None
        about = WARNING_FEATURES.get(_code(code), (RECORD,))
        takers = [part for part in parts if shown[part] & set(about)]
        if not takers:
            takers = [part for part in parts if RECORD in shown[part]] or parts
        for part in takers:
            routed[part].append(warning)
    return routed


def _code(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def split(
    body: Mapping[str, Any], call: CustomerQuery, parts: list[CustomerQuery]
) -> dict[CustomerQuery, dict[str, Any]]:
    """Return each part's slice of the answer to `call`: what its own call would have said."""
    claimed = _keys(features(call))
    warnings = body.get("warnings")
    routed = _route(warnings if isinstance(warnings, list) else [], parts)
    out = {}
    for part in parts:
        shown = features(part)
        mine = _keys(shown)
        record = RECORD in shown
        piece = {
            key: value
            for key, value in body.items()
            if key != "warnings" and (key == "id" or key in mine or (record and key not in claimed))
        }
        if "warnings" in body or routed[part]:
            piece["warnings"] = routed[part]
        out[part] = piece
    return out


def dumps(piece: Mapping[str, Any]) -> str:
    """Return a slice as JSON text, as compact as Capillary writes it."""
    return json.dumps(piece, ensure_ascii=False, separators=(",", ":"))
