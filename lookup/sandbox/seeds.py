"""Verbatim seed customers from Capillary's "Get customer details" page, with their extra blocks."""

from __future__ import annotations

import random
from datetime import UTC, date
from functools import partial
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

# The two documented response bodies, copied character for character from
# shared/seed/get-customer-details.md (including its "[email protected]" scraping artefact).
BUBALUS_TEXT = r"""{
"id": 566881933,
"profiles": [
{
"firstName": "Bubalus",
"lastName": "bubalis",
"attribution": {
"createDate": "2025-02-28T06:15:10Z",
"createdBy": {
"id": 75155282,
"code": "neeraj.doc",
"name": "neeraj.doc",
"type": "TILL",
"referenceId": -1,
"default": false
},
"modifiedBy": {
"id": 75197941,
"code": "george.docdemo",
"name": "george.docdemo",
"type": "TILL",
"referenceId": -1,
"default": false
},
"modifiedDate": "2026-01-08T10:03:21Z"
},
"fields": {},
"allFields": {},
"identifiers": [
{
"type": "mobile",
"value": "1234512345"
},
{
"type": "email",
"value": "[email protected]"
},
{
"type": "externalId",
"value": "12341234"
}
],
"commChannels": [
{
"type": "mobile",
"value": "1234512345",
"primary": true,
"verified": false,
"meta": {
"residence": false,
"office": false
},
"attributes": {}
},
{
"type": "email",
"value": "[email protected]",
"primary": true,
"verified": false,
"meta": {
"residence": false,
"office": false
},
"attributes": {}
}
],
"source": "INSTORE",
"userId": 566881933,
"accountId": "",
"conflictingProfileList": [],
"autoUpdateTime": "2026-01-14T08:48:38Z",
"identifiersAll": [
{
"type": "mobile",
"value": "1234512345"
},
{
"type": "email",
"value": "[email protected]"
},
{
"type": "externalId",
"value": "12341234"
}
]
}
],
"loyaltyInfo": {
"loyaltyType": "loyalty",
"attributionV2": {
"createDate": "2025-09-23T12:31:51Z",
"createdBy": {
"id": 75152721,
"code": "naman_doc",
"description": "",
"name": "naman",
"type": "TILL",
"referenceId": -1,
"adminType": "GENERAL",
"isActive": true,
"isOuEnabled": false,
"timeZoneId": 191,
"currencyId": 95,
"languageId": 148,
"default": false
},
"modifiedBy": {
"id": 75197941,
"code": "george.docdemo",
"name": "george.docdemo",
"type": "TILL",
"referenceId": -1,
"default": false
},
"modifiedDate": "2026-01-08T10:03:21Z",
"createdFromSource": "instore"
},
"lifetimePurchases": 221350.000,
"score": 0
},
"segments": {},
"associatedWith": "naman_doc",
"extendedFields": {
"city": "Mumbai",
"dob": "1999-08-08T00:00:00Z",
"gender": "Male"
},
"cardDetails": [
{
"cardId": 914258,
"issuedDate": "2025-09-18T12:47:07Z",
"createdDate": "2025-09-05",
"createdDateTimeISO": "2025-09-05T12:25:27Z",
"expiryDays": 1000,
"seriesName": "card series create new",
"customerId": 566881933,
"maxActiveCards": 5,
"extendedFields": {
"custom_card_name": "TOM",
"vehicle_number": "KA01B2020"
},
"customFields": {
"vehicle_type": "Bike"
},
"mappedEntity": {
"type": "TILL",
"value": "rutuja_capillary"
},
"type": "DIGITAL",
"cardNumber": "mtest00000000067003",
"seriesId": 195,
"seriesCode": "mtest",
"orgId": 100737,
"entityId": 75152721,
"statusInfo": {
"reason": "",
"createdBy": 914258,
"actions": [],
"autoUpdateTime": "2025-09-18",
"autoUpdateTimeISO": "2025-09-18T12:47:06Z",
"createdOn": "2025-09-18T12:47:07Z",
"entityId": 914258,
"id": 28185678,
"isActive": true,
"labelId": 494,
"label": "ACTIVE",
"status": "ACTIVE"
},
"id": 914258,
"transactionNotAllowed": true,
"activeAndDigital": true,
"expiryDate": "2028-06-01T00:00:00Z"
},
{
"cardId": 916170,
"issuedDate": "2025-09-23T12:10:53Z",
"createdDate": "2025-09-23",
"createdDateTimeISO": "2025-09-23T12:09:51Z",
"expiryDays": 1000,
"seriesName": "card series create new",
"customerId": 566881933,
"maxActiveCards": 5,
"customFields": {},
"type": "DIGITAL",
"cardNumber": "mtest00000000107003",
"seriesId": 195,
"seriesCode": "mtest",
"orgId": 100737,
"entityId": 75184878,
"statusInfo": {
"reason": "",
"createdBy": 916170,
"actions": [],
"autoUpdateTime": "2025-09-23",
"autoUpdateTimeISO": "2025-09-23T12:10:52Z",
"createdOn": "2025-09-23T12:10:53Z",
"entityId": 916170,
"id": 28195155,
"isActive": true,
"labelId": 494,
"label": "ACTIVE",
"status": "ACTIVE"
},
"id": 916170,
"transactionNotAllowed": true,
"activeAndDigital": true,
"expiryDate": "2028-06-19T00:00:00Z"
},
{
"cardId": 916172,
"issuedDate": "2025-09-23T12:10:42Z",
"createdDate": "2025-09-23",
"createdDateTimeISO": "2025-09-23T12:09:51Z",
"expiryDays": 1000,
"seriesName": "card series create new",
"customerId": 566881933,
"maxActiveCards": 5,
"customFields": {},
"type": "DIGITAL",
"cardNumber": "mtest00000000087003",
"seriesId": 195,
"seriesCode": "mtest",
"orgId": 100737,
"entityId": 75184878,
"statusInfo": {
"reason": "",
"createdBy": 916172,
"actions": [],
"autoUpdateTime": "2025-09-23",
"autoUpdateTimeISO": "2025-09-23T12:10:42Z",
"createdOn": "2025-09-23T12:10:42Z",
"entityId": 916172,
"id": 28195154,
"isActive": true,
"labelId": 494,
"label": "ACTIVE",
"status": "ACTIVE"
},
"id": 916172,
"transactionNotAllowed": true,
"activeAndDigital": true,
"expiryDate": "2028-06-19T00:00:00Z"
},
{
"cardId": 916173,
"issuedDate": "2025-09-23T12:10:29Z",
"createdDate": "2025-09-23",
"createdDateTimeISO": "2025-09-23T12:09:51Z",
"expiryDays": 1000,
"seriesName": "card series create new",
"customerId": 566881933,
"maxActiveCards": 5,
"customFields": {},
"type": "DIGITAL",
"cardNumber": "mtest00000000077003",
"seriesId": 195,
"seriesCode": "mtest",
"orgId": 100737,
"entityId": 75184878,
"statusInfo": {
"reason": "",
"createdBy": 916173,
"actions": [],
"autoUpdateTime": "2025-09-23",
"autoUpdateTimeISO": "2025-09-23T12:10:28Z",
"createdOn": "2025-09-23T12:10:29Z",
"entityId": 916173,
"id": 28195153,
"isActive": true,
"labelId": 494,
"label": "ACTIVE",
"status": "ACTIVE"
},
"id": 916173,
"transactionNotAllowed": true,
"activeAndDigital": true,
"expiryDate": "2028-06-19T00:00:00Z"
},
{
"cardId": 921845,
"issuedDate": "2025-11-20T10:07:35Z",
"createdDate": "2025-11-20",
"createdDateTimeISO": "2025-11-20T09:50:02Z",
"expiryDays": 1000,
"seriesName": "CardSeries14",
"customerId": 566881933,
"maxActiveCards": 1,
"cardExternalId": "CardExternal2",
"customFields": {},
"type": "DIGITAL",
"cardNumber": "DS034812BA",
"seriesId": 214,
"seriesCode": "CardSeries14",
"orgId": 100737,
"entityId": 75197372,
"statusInfo": {
"reason": "",
"createdBy": 921845,
"actions": [],
"autoUpdateTime": "2025-11-20",
"autoUpdateTimeISO": "2025-11-20T10:07:35Z",
"createdOn": "2025-11-20T10:07:35Z",
"entityId": 921845,
"id": 28349059,
"isActive": true,
"labelId": 494,
"label": "ACTIVE",
"status": "ACTIVE"
},
"id": 921845,
"transactionNotAllowed": true,
"activeAndDigital": true,
"expiryDate": "2028-08-16T00:00:00Z"
}
],
"warnings": []
}"""

TOM_SAWYER_TEXT = r"""{
"id": 565261498,
"profiles": [
{
"firstName": "Tom",
"lastName": "Sawyer",
"attribution": {
"createDate": "2024-08-27T00:00:00Z",
"createdBy": {
"id": 75155282,
"code": "neeraj.doc",
"name": "neeraj.doc",
"type": "TILL",
"referenceId": -1,
"default": false
},
"modifiedBy": {
"id": 75152722,
"code": "divya_doc",
"name": "divya_doc",
"type": "TILL",
"referenceId": -1,
"default": false
},
"modifiedDate": "2026-01-14T10:25:02Z"
},
"fields": {},
"allFields": {},
"identifiers": [
{
"type": "mobile",
"value": "19986542387"
}
],
"commChannels": [
{
"type": "mobile",
"value": "19986542387",
"primary": true,
"verified": false,
"meta": {
"residence": false,
"office": false
},
"attributes": {}
}
],
"source": "INSTORE",
"userId": 565261498,
"accountId": "",
"conflictingProfileList": [],
"autoUpdateTime": "2026-01-16T08:12:10Z",
"identifiersAll": [
{
"type": "mobile",
"value": "19986542387"
}
]
}
],
"loyaltyInfo": {
"loyaltyType": "loyalty",
"attributionV2": {
"createDate": "2024-08-27T00:00:00Z",
"createdBy": {
"id": 75155282,
"code": "neeraj.doc",
"description": "",
"name": "neeraj.doc",
"type": "TILL",
"referenceId": -1,
"adminType": "GENERAL",
"isActive": true,
"isOuEnabled": false,
"timeZoneId": 191,
"currencyId": 95,
"languageId": 148,
"default": false
},
"modifiedBy": {
"id": 75152722,
"code": "divya_doc",
"name": "divya_doc",
"type": "TILL",
"referenceId": -1,
"default": false
},
"modifiedDate": "2026-01-14T10:25:02Z",
"createdFromSource": "instore"
},
"lifetimePurchases": 10200.000
},
"segments": {},
"associatedWith": "neeraj.doc",
"optinStatus": "NONE",
"slabHistory": [
{
"from": "Coral",
"to": "Garnet",
"fromTierExpiryDate": "2121-11-10T23:59:59Z",
"changedOn": "2026-01-13T14:41:26Z",
"notes": "manual slab adjustment reason: Upgraded for achieving 1000 loyalty points",
"store": {
"code": "doc123",
"name": "DocStore"
},
"type": "UPGRADE",
"programId": 983
},
{
"from": "Topaz",
"to": "Coral",
"fromTierExpiryDate": "2124-08-27T23:59:59Z",
"toTierExpiryDate": "2121-11-10T23:59:59Z",
"changedOn": "2025-03-26T08:26:55Z",
"notes": "Upgrading to Slab : Slab[2]: Name [points] Description [transfer points] , Criteria: Primary",
"store": {
"code": "doc123",
"name": "DocStore"
},
"type": "UPGRADE",
"programId": 983
}
],
"tierUpgradeCriteria": {
"purchaseType": "CURRENT_POINTS",
"description": "purchase required for slab upgradation based on current points",
"purchaseValue": 5999.0
},
"extendedFields": {},
"ndncStatus": "NONE",
"cardDetails": [],
"membershipRetentionCriteria": {
"minPurchases": 0.0,
"minVisits": 0,
"isDownGradeStrategy": true
},
"warnings": []
}"""

SEED_IDS = (566881933, 565261498)

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
    base = loads_exact(BUBALUS_TEXT if customer_id == 566881933 else TOM_SAWYER_TEXT)
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
