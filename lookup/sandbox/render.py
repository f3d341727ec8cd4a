"""Rendering a customer record into the body of ``GET /v2/customers/{id}`` for one query."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from .data import cached_customer, today_utc
from .model import KEY_ORDER, Customer
from .params import MULTI_ACCOUNT_SOURCES, ApiError, Params, parse_cached

ACCOUNT_WARNING = {"status": False, "code": 8054, "message": "Account id not passed"}
# Embeds whose URLs carry the moment of the request.
CLOCK_EMBEDS = frozenset({"customerImage", "associatedImages"})


def _profiles(customer: Customer, params: Params) -> list[dict[str, Any]]:
    profiles = customer.base.get("profiles") or []
    if params.source != "ALL":
        profiles = [p for p in profiles if str(p.get("source", "")).upper() == params.source]
    if params.account_id is not None:
        profiles = [
            p
            for p in profiles
            if p.get("source") not in MULTI_ACCOUNT_SOURCES
            or p.get("accountId") == params.account_id
        ]
    if not profiles:
        raise ApiError(400, 8065, "User not found for given source")
    return profiles[:1] if params.only_current_profile else profiles


def _joined(group: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(group["joinedDate"])


def _groups(customer: Customer, params: Params) -> tuple[list[dict[str, Any]], int]:
    groups = customer.blocks.user_groups
    if params.group_id is not None:
        groups = [g for g in groups if g["id"] == params.group_id]
    if params.joined_start is not None:
        groups = [g for g in groups if _joined(g) >= params.joined_start]
    if params.joined_end is not None:
        groups = [g for g in groups if _joined(g) <= params.joined_end]
    if params.sort_by == "name":
        groups = sorted(groups, key=lambda g: (g["name"], g["id"]), reverse=params.sort_desc)
    elif params.sort_by == "id":
        groups = sorted(groups, key=lambda g: g["id"], reverse=params.sort_desc)
    else:
        groups = sorted(groups, key=lambda g: (_joined(g), g["id"]), reverse=params.sort_desc)
    page = groups[params.offset : params.offset + params.limit]
    if not params.group_loyalty:
        page = [{k: v for k, v in g.items() if k != "loyaltyDetails"} for g in page]
    return page, len(groups)


def _image_url(base_url: str, name: str, now: datetime) -> str:
    return (
        f"{base_url}/__sandbox/images/{name}.png?X-Amz-Expires=3600&X-Amz-Date={now:%Y%m%dT%H%M%SZ}"
    )


def _customer_image(customer: Customer, base_url: str, now: datetime) -> list[dict[str, Any]]:
    image = customer.blocks.image
    if image is None:
        return []
    url = _image_url(base_url, str(customer.id), now)
    path = f"{customer.org_id}/{customer.id}"
    return [
        {
            "code": 200,
            "file": {
                "acl": "PRIVATE",
                "fileSize": image["fileSize"],
                "fileHandle": image["fileHandle"],
                "lastModified": image["lastModified"],
                "latestVersion": image["version"],
                "name": f"{path}/0",
                "namespace": "customerImage",
                "s3Token": f"customerImage/{path}/{image['fileHandle']}",
                "version": image["version"],
            },
            "filePath": url,
            "message": "Success",
            "secureFilePath": url,
            "status": "true",
        }
    ]


def _mlp(customer: Customer, params: Params, body: dict[str, Any], today: date) -> None:
    up, renew = params.gap_to_upgrade, params.gap_to_renew
    per_program = not customer.gaps_top_level
    items = []
    for program in customer.programs:
        item = dict(program.details)
        if per_program and up is not None:
            item["upgradeStrategies"] = [
                u.render(up, today, customer.upgrade_key) for u in program.upgrades
            ]
        if per_program and renew is not None and program.renew is not None:
            item["gapToRenewSummary"] = program.renew.render(renew)
        items.append(item)
    body["loyaltyProgramDetails"] = items
    if per_program or not customer.programs:
        return
    first = customer.programs[0]
    if up is not None:
        body["upgradeStrategies"] = [
            u.render(up, today, customer.upgrade_key) for u in first.upgrades
        ]
    if renew is not None and first.renew is not None:
        summary = first.renew.render(renew)
        body["gapToRenewSummary"] = [summary] if customer.renew_as_list else summary


def render(
    customer: Customer, params: Params, base_url: str, today: date, now: datetime
) -> dict[str, Any]:
    """Return the response body for ``customer`` under ``params`` (raises 8065 on a source miss)."""
    body: dict[str, Any] = dict(customer.base)
    body["profiles"] = _profiles(customer, params)
    if params.source in MULTI_ACCOUNT_SOURCES and params.account_id is None:
        body["warnings"] = [*body.get("warnings", []), ACCOUNT_WARNING]
    embeds = params.embeds
    if "segments" in embeds:
        body["segments"] = dict(customer.blocks.segments)
    if params.fraud:
        body["fraudDetails"] = customer.blocks.fraud
    for flag in params.flags:
        if flag in customer.blocks.extras:
            body[flag] = customer.blocks.extras[flag]
    if "points" in embeds:
        body["pointsSummary"] = customer.points_summary
    if "mlp" in embeds:
        _mlp(customer, params, body, today)
    if "subscriptions" in embeds:
        body["subscriptionInfo"] = {"subscriptions": customer.blocks.subscriptions}
    if "promotionalPoints" in embeds:
        body["promotionalPoints"] = customer.blocks.promotional_points
    if "expirySchedules" in embeds:
        body["expirySchedules"] = customer.blocks.expiry_schedules
    if "expiredPoints" in embeds:
        body["expiredPoints"] = customer.blocks.expired_points
    if "returnedPoints" in embeds:
        body["returnedPoints"] = customer.blocks.returned_points
    if "customerImage" in embeds:
        body["customerImage"] = _customer_image(customer, base_url, now)
    if "associatedImages" in embeds:
        body["associatedImages"] = [
            {
                "type": "BARCODE",
                "imageUrl": _image_url(base_url, f"{customer.id}-barcode-{index}", now),
                "identifierType": kind,
                "identifierValue": value,
            }
            for index, (kind, value) in enumerate(customer.barcodes)
        ]
    if params.wants_groups or params.pagination:
        page, total = _groups(customer, params)
        if params.wants_groups:
            body["userGroups"] = page
        if params.pagination:
            body["ug2Pagination"] = {"limit": params.limit, "offset": params.offset, "total": total}
    ordered = {key: body[key] for key in KEY_ORDER if key in body}
    ordered.update((key, value) for key, value in body.items() if key not in ordered)
    return ordered


def customer_response(
    raw_id: str, query: str, base_url: str, today: date | None = None, now: datetime | None = None
) -> tuple[int, Any]:
    """Answer ``GET /v2/customers/{raw_id}?{query}``: return (HTTP status, JSON body).

    The body shares its parts with a cached customer: encode it, do not change what is inside.
    """
    try:
        if not raw_id.isdigit() or not raw_id.isascii():
            raise ApiError(400, 400, "Invalid customer id")
        params = parse_cached(query)
        if isinstance(params, ApiError):  # returned, not raised: a raise would grow its traceback
            return params.status, params.body()
        today = today or today_utc()
        customer = cached_customer(int(raw_id), today)
        if customer is None:
            raise ApiError(404, 8015, "Customer not found for the given identifiers")
        return 200, render(customer, params, base_url, today, now or datetime.now(UTC))
    except ApiError as error:
        return error.status, error.body()


def timeless(query: str) -> bool:
    """Return True if the answer to ``query`` depends on the day only, not on the time of day."""
    params = parse_cached(query)
    return isinstance(params, ApiError) or not params.embeds & CLOCK_EMBEDS
