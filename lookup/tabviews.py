"""Context builders of the header and the profile, identifiers, groups and raw tabs."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from lookup.capillary import CapillaryError
from lookup.capillary.records import Identifier, unique_warnings
from lookup.presentation.tiers import POINTS_WARNINGS
from lookup.tabs import PART_LABELS, UG2_SORT_FIELDS, TabContext

# Fraud statuses that put a banner on every tab.
FLAGGED = frozenset({"MARKED", "CONFIRMED", "RECONFIRMED"})
PRIORITIES = ("TRANS", "BULK")
IMAGE_KINDS = {"customer": "customerImage", "associated": "associatedImages"}


def _customer(ctx: TabContext, part: str = "base") -> Any:
    data = ctx.data(part)
    return data.customer if data is not None else None


def header(ctx: TabContext) -> dict[str, Any]:
    """Return the header's context: tiers, points balance, fraud, NDNC and opt-in status."""
    base, points, mlp = _customer(ctx), _customer(ctx, "points"), _customer(ctx, "mlp")
    programs = mlp.all_programs if mlp is not None else ()
    balance: Decimal | None = None
    balance_from = ""
    if points is not None and points.points_summary is not None:
        balance = points.points_summary.loyalty_points
        balance_from = "points summary"
    if balance is None and programs:
        values = [p.loyalty_points for p in programs if p.loyalty_points is not None]
        if values:
            balance, balance_from = sum(values, Decimal(0)), "sum over programs"
    fraud = base.fraud_details if base is not None else None
    status = (fraud.status or "").upper() if fraud is not None else ""
    # Each warning once: the points ones beside the balance, the rest under the header,
    # however many of the header's parts carried it.
    said = unique_warnings(
        warning
        for name in ("base", "points", "mlp")
        for warning in getattr(ctx.data(name), "warnings", ())
    )
    about_points = [w for w in said if w.code in POINTS_WARNINGS]
    return {
        "header_programs": programs,
        "header_balance": balance,
        "header_balance_from": balance_from,
        "header_points_warnings": about_points,
        "header_warnings": [w for w in said if w.code not in POINTS_WARNINGS],
        "header_errors": [
            (PART_LABELS[name], ctx.error(name)) for name in ("points", "mlp") if ctx.error(name)
        ],
        "fraud": fraud,
        "fraud_status": status,
        "fraud_flagged": status in FLAGGED,
        "base_data": ctx.data("base"),
    }


def profile(ctx: TabContext) -> dict[str, Any]:
    """Return the profile tab's context: every profile, and the only-current switch URLs."""
    customer = _customer(ctx)
    return {
        "profiles": customer.profiles if customer is not None else (),
        "only_current": ctx.options.only_current_profile,
        "only_current_url": ctx.tab_url("profile", only_current_profile=True),
        "all_profiles_url": ctx.tab_url("profile", only_current_profile=False),
    }


def _by_type(identifiers: tuple[Identifier, ...]) -> dict[str, list[Identifier]]:
    grouped: dict[str, list[Identifier]] = defaultdict(list)
    for identifier in identifiers:
        grouped[identifier.type or "(no type)"].append(identifier)
    return dict(grouped)


def identifiers(ctx: TabContext) -> dict[str, Any]:
    """Return the identifiers tab's context: identifiers by type and the subscription grid."""
    customer = _customer(ctx)
    profiles = [
        {
            "profile": p,
            "identifiers": _by_type(p.identifiers),
            "identifiers_all": _by_type(p.identifiers_all),
            "identifiers_all_sent": "identifiersAll" in p.raw,
        }
        for p in (customer.profiles if customer is not None else ())
    ]
    subs_customer = _customer(ctx, "subscriptions")
    grid: dict[str, dict[str, str]] = {}
    priorities = list(PRIORITIES)
    subs_returned = subs_customer is not None and "subscriptions" in subs_customer.present
    for sub in subs_customer.subscriptions if subs_customer is not None else ():
        priority = sub.priority or "(none)"
        if priority not in priorities:
            priorities.append(priority)
        grid.setdefault(sub.channel or "(no channel)", {})[priority] = sub.type or "not set"
    rows = [
        {"channel": channel, "cells": [cells.get(p, "") for p in priorities]}
        for channel, cells in grid.items()
    ]
    return {
        "id_profiles": profiles,
        "sub_priorities": priorities,
        "sub_rows": rows,
        "subs_returned": subs_returned,
    }


def image_url(ctx: TabContext, kind: str, index: int) -> str:
    """Return the dashboard URL that shows one customer or associated image."""
    path = reverse("customer-image", args=[ctx.query.customer_id, kind, index])
    return f"{path}?{urlencode(ctx.base_params())}"


def _paging(ctx: TabContext, pagination: Any, shown: int) -> dict[str, Any]:
    opts = ctx.options
    limit = (pagination.limit if pagination else None) or opts.ug2_limit
    offset = (pagination.offset if pagination else None) or opts.ug2_offset
    total = pagination.total if pagination else None
    more = offset + shown < total if total is not None else shown >= limit
    return {
        "first": offset + 1 if shown else 0,
        "last": offset + shown,
        "total": total,
        "prev_url": ctx.tab_url("groups", ug2_offset=max(0, offset - limit)) if offset else "",
        "next_url": ctx.tab_url("groups", ug2_offset=offset + limit) if more else "",
    }


def groups(ctx: TabContext) -> dict[str, Any]:
    """Return the groups tab's context: user groups with paging, segments, fraud and images."""
    opts = ctx.options
    ug = _customer(ctx, "userGroups")
    user_groups = ug.user_groups if ug is not None else ()
    flip = "ASC" if opts.ug2_sort_order == "DESC" else "DESC"
    sorts = [
        {
            "label": label,
            "current": field == opts.ug2_sort_by,
            "order": opts.ug2_sort_order if field == opts.ug2_sort_by else "",
            "url": ctx.tab_url(
                "groups",
                ug2_sort_by=field,
                ug2_sort_order=flip if field == opts.ug2_sort_by else "DESC",
                ug2_offset=0,
            ),
        }
        for field, label in UG2_SORT_FIELDS.items()
    ]
    keep = [("ug2SortBy", opts.ug2_sort_by), ("ug2SortOrder", opts.ug2_sort_order)]
    if opts.ug2_loyalty_details:
        keep.append(("ug2Loyalty", "1"))
    segments = _customer(ctx, "segments")
    images = _customer(ctx, "customerImage")
    associated = _customer(ctx, "associatedImages")
    return {
        "user_groups": user_groups,
        "groups_returned": ug is not None and "user_groups" in ug.present,
        "paging": _paging(ctx, ug.ug2_pagination if ug is not None else None, len(user_groups)),
        "sorts": sorts,
        "loyalty_on": opts.ug2_loyalty_details,
        "loyalty_toggle_url": ctx.tab_url(
            "groups", ug2_loyalty_details=not opts.ug2_loyalty_details
        ),
        "filter_action": reverse("customer-tab", args=[ctx.query.customer_id, "groups"]),
        "filter_hidden": ctx.base_params() + keep,
        "filter_clear_url": ctx.tab_url(
            "groups", ug2_joined_start=None, ug2_joined_end=None, ug2_offset=0
        ),
        "segments": segments.segments if segments is not None else {},
        "segments_returned": segments is not None and "segments" in segments.present,
        "customer_images": [
            {"image": image, "url": image_url(ctx, "customer", n)}
            for n, image in enumerate(images.customer_images if images is not None else ())
        ],
        "images_returned": images is not None and "customer_images" in images.present,
        "associated_images": [
            {"image": image, "url": image_url(ctx, "associated", n)}
            for n, image in enumerate(associated.associated_images if associated else ())
        ],
        "associated_returned": associated is not None and "associated_images" in associated.present,
    }


def pretty_json(text: str) -> str:
    """Return JSON text indented for reading, or the text as it is when it does not parse."""
    try:
        return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    except ValueError:
        return text


def raw(ctx: TabContext) -> dict[str, Any]:
    """Return the raw tab's context: each part's request and the JSON Capillary sent."""
    entries = []
    for name, value in ctx.parts.items():
        entry: dict[str, Any] = {"name": name, "label": PART_LABELS.get(name, name)}
        if isinstance(value, CapillaryError):
            entry.update(error=value, fields=value.log_fields())
        else:
            sent = value.call_params or value.params
            entry.update(
                path=value.path,
                params=sent,
                query_string=urlencode(sent),
                # The part came from a call that also answered other parts: its JSON is the
                # part's own blocks of that answer.
                shared=sorted(sent) != sorted(value.params),
                pretty=pretty_json(value.raw_text),
                raw_text=value.raw_text,
                request_id=value.request_id,
                data=value,
            )
        entries.append(entry)
    return {"raw_entries": entries}
