"""The groups tab: user groups with date filter, sort and paging; segments, fraud and images."""

from __future__ import annotations

from typing import Any

from lookup.tabs.common import TabContext, part
from lookup.tabs.options import UG2_SORT_FIELDS

PARTS = ("base", "userGroups", "segments", "customerImage", "associatedImages")
IMAGE_KINDS = {"customer": "customerImage", "associated": "associatedImages"}


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
        "prev_url": ctx.links.tab("groups", ug2_offset=max(0, offset - limit)) if offset else "",
        "next_url": ctx.links.tab("groups", ug2_offset=offset + limit) if more else "",
    }


def build(ctx: TabContext) -> dict[str, Any]:
    """Return the groups tab's context: user groups with paging, segments, fraud and images."""
    opts = ctx.options
    ug = part(ctx, "userGroups")
    user_groups = ug.user_groups if ug is not None else ()
    flip = "ASC" if opts.ug2_sort_order == "DESC" else "DESC"
    sorts = [
        {
            "label": label,
            "current": field == opts.ug2_sort_by,
            "order": opts.ug2_sort_order if field == opts.ug2_sort_by else "",
            "url": ctx.links.tab(
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
    segments = part(ctx, "segments")
    images = part(ctx, "customerImage")
    associated = part(ctx, "associatedImages")
    return {
        "user_groups": user_groups,
        "groups_returned": ug is not None and "user_groups" in ug.present,
        "paging": _paging(ctx, ug.ug2_pagination if ug is not None else None, len(user_groups)),
        "sorts": sorts,
        "loyalty_on": opts.ug2_loyalty_details,
        "loyalty_toggle_url": ctx.links.tab(
            "groups", ug2_loyalty_details=not opts.ug2_loyalty_details
        ),
        "filter_action": ctx.links.tab_path("groups"),
        "filter_hidden": [*ctx.links.params(), *keep],
        "filter_clear_url": ctx.links.tab(
            "groups", ug2_joined_start=None, ug2_joined_end=None, ug2_offset=0
        ),
        "segments": segments.segments if segments is not None else {},
        "segments_returned": segments is not None and "segments" in segments.present,
        "customer_images": [
            {"image": image, "url": ctx.links.image("customer", n)}
            for n, image in enumerate(images.customer_images if images is not None else ())
        ],
        "images_returned": images is not None and "customer_images" in images.present,
        "associated_images": [
            {"image": image, "url": ctx.links.image("associated", n)}
            for n, image in enumerate(associated.associated_images if associated else ())
        ],
        "associated_returned": associated is not None and "associated_images" in associated.present,
    }
