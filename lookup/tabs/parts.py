"""The upstream parts of the customer page: what each is, and the query that fetches it.

A *part* is what one embed (or one group of flags) adds to the record, or the record
itself. Each part is cached on its own, so opening a tab fetches only the parts it needs
that are not cached yet, in one upstream call (lookup.services.combine).
"""

from __future__ import annotations

from collections.abc import Iterable

from lookup.capillary import CustomerQuery
from lookup.tabs.options import PageOptions

# Single-embed parts: the part name is the embed's canonical spelling.
EMBED_PARTS = (
    "points",
    "mlp",
    "subscriptions",
    "expirySchedules",
    "expiredPoints",
    "returnedPoints",
    "promotionalPoints",
    "segments",
    "customerImage",
    "associatedImages",
)
# Parts that never outlive their pre-signed URLs in the cache.
IMAGE_PARTS = ("customerImage", "associatedImages")
HEADER_PARTS = ("base", "points", "mlp")
# What each part is, in words, for error panels and the raw response tab.
PART_LABELS = {
    "base": "Customer record (profiles, loyalty info, fraud, NDNC and opt-in status)",
    "points": "Points summary (embed=points)",
    "mlp": "Loyalty programs (embed=mlp, with today's gaps)",
    "subscriptions": "Subscriptions (embed=subscriptions)",
    "expirySchedules": "Points expiry schedule (embed=expirySchedules)",
    "expiredPoints": "Expired points (embed=expiredPoints)",
    "returnedPoints": "Returned points (embed=returnedPoints)",
    "promotionalPoints": "Promotional points (embed=promotionalPoints)",
    "segments": "Segments (embed=segments)",
    "customerImage": "Customer image (embed=customerImage)",
    "associatedImages": "Associated images (embed=associatedImages)",
    "slabHistory": "Tier history (slabHistory)",
    "criteria": "Upgrade and retention criteria",
    "gaps": "Gaps to upgrade and renew (embed=mlp with gapToUpgrade, gapToRenew)",
    "userGroups": "User groups (embed=userGroup)",
}


def part_query(base: CustomerQuery, name: str, options: PageOptions) -> CustomerQuery:
    """Return the upstream query for one named part of the page."""
    plain = CustomerQuery(
        customer_id=base.customer_id, source=base.source, account_id=base.account_id
    )
    if name == "base":
        return plain.replace(
            included_fraud_details=True,
            ndnc_status=True,
            optin_status=True,
            included_only_current_profile=options.only_current_profile,
        )
    if name == "mlp":
        # Today's gaps come with the programs at no extra cost, and make the programs
        # part the same query as the upgrade tab's gaps without a projection.
        return plain.replace(embed=frozenset({"mlp"}), gap_to_upgrade=0, gap_to_renew=0)
    if name in EMBED_PARTS:
        return plain.replace(embed=frozenset({name}))
    if name == "slabHistory":
        return plain.replace(slab_history=True)
    if name == "criteria":
        return plain.replace(tier_upgrade_criteria=True, membership_retention_criteria=True)
    if name == "gaps":
        return plain.replace(
            embed=frozenset({"mlp"}),
            gap_to_upgrade=options.gap_days,
            gap_to_renew=options.gap_days,
        )
    if name == "userGroups":
        return plain.replace(
            embed=frozenset({"userGroup"}),
            ug2_offset=options.ug2_offset,
            ug2_limit=options.ug2_limit,
            ug2_sort_by=options.ug2_sort_by,
            ug2_sort_order=options.ug2_sort_order,
            ug2_joined_start_date=options.ug2_joined_start,
            ug2_joined_end_date=options.ug2_joined_end,
            ug2_pagination_details=True,
            included_user_group2_loyalty_details=options.ug2_loyalty_details,
        )
    raise KeyError(name)


def part_queries(
    base: CustomerQuery, names: Iterable[str], options: PageOptions
) -> dict[str, CustomerQuery]:
    """Return the upstream query of each named part, in order, without repeats."""
    return {name: part_query(base, name, options) for name in dict.fromkeys(names)}
