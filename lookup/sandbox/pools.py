"""Fixed vocabularies the generated population draws from."""

from __future__ import annotations

GENERATED_START = 100_000_000
GENERATED_STOP = 100_010_000
ORG_ID = 100737

# Archetype by (id - GENERATED_START) % len(ARCHETYPES); "typical" ids mix features at random.
ARCHETYPES = (
    "typical",
    "many_programs",
    "no_programs",
    "empty",
    "unicode_cjk",
    "unicode_arabic",
    "emoji",
    "hostile",
    "many_cards",
    "long_history",
    "paged_groups",
    "fraud",
    "top_level_gaps",
    "string_numbers",
    "no_downgrade",
    "multi_source",
    "no_instore",
    "typical",
    "typical",
    "typical",
)

LONG_VALUE = ("Lorem ipsum dolor sit amet, " * 200)[:5000]
HOSTILE = (
    "<script>window.__xss=1</script>",
    '"><img src=x onerror=window.__xss=1>',
    "{{ 7*7 }}",
    "'; DROP TABLE--",
    "{% debug %}",
    "javascript:window.__xss=1",
)

FIRST_NAMES = ("Tom", "Priya", "Arjun", "Emma", "Liam", "Ananya", "Noah", "Sofia", "Rahul", "Mia")
LAST_NAMES = ("Sawyer", "Sharma", "Iyer", "Müller", "O'Brien", "Fernandes", "Nair", "Rossi", "Kaur")
CJK_FIRST = ("伟", "芳", "秀英", "敏", "静", "さくら", "翔太", "지민", "서연")
CJK_LAST = ("王", "李", "张", "刘", "陈", "山田", "佐藤", "김", "박")
ARABIC_FIRST = ("محمد", "فاطمة", "أحمد", "مريم", "علي", "نور")
ARABIC_LAST = ("العلي", "الحسن", "الخطيب", "المصري", "‏(VIP) الزهراني")
EMOJI_FIRST = ("🦄 Uni", "Zoë 🌟", "🎉", "Chloé 💖", "👩🏽‍💻 Dev")
EMOJI_LAST = ("Smith 👨‍👩‍👧", "🔥🔥🔥", "O'Brien ✈️", "Nguyễn 🍜")
CITIES = ("Mumbai", "Bangalore", "Singapore", "Dubai", "Bangkok", "London")
CJK_CITIES = ("北京", "上海", "東京", "서울")
ARABIC_CITIES = ("دبي", "الرياض", "القاهرة")

# (id, code, name) of tills that create and modify records.
TILLS = (
    (75155282, "neeraj.doc", "neeraj.doc"),
    (75197941, "george.docdemo", "george.docdemo"),
    (75152721, "naman_doc", "naman"),
    (75152722, "divya_doc", "divya_doc"),
    (75160001, "store.mumbai.01", "Mumbai Central Till 1"),
    (75160007, "store.bkk.07", "Bangkok Siam Till 7"),
)
STORES = (("doc123", "DocStore"), ("mum01", "Mumbai Central"), ("bkk07", "Bangkok Siam"))

# (programId, programTitle, programDescription, tiers from base up)
PROGRAMS = (
    (
        973,
        "DocDemoDefaultProgram",
        "Default program for DocDemo",
        ("Topaz", "Coral", "Garnet", "Ruby", "Diamond"),
    ),
    (983, "Group Loyalty Program", "Loyalty program for groups", ("Topaz", "Coral", "Garnet")),
    (1219, "Coffee Club", "Earn beans on every cup", ("Bronze", "Silver", "Gold", "Platinum")),
    (1223, "Partner Miles", "Miles with airline partners", ("Tier1", "Tier2")),
    (1550, "AirAsia India", "AirAsia India", ("Aviator", "Explorer", "Voyager")),
    (1679, "Wellness Rewards", "Pharmacy and wellness", ("Green", "Blue", "Black")),
)

# (seriesId, seriesCode, seriesName)
CARD_SERIES = (
    (195, "mtest", "card series create new"),
    (214, "CardSeries14", "CardSeries14"),
    (230, "GOLDPLS", "Gold Plus Physical"),
    (231, "FLEET", "Fleet fuel card"),
)
CARD_STATUSES = ("ACTIVE", "SUSPENDED", "EXPIRED", "LOST", "INACTIVE")
CARD_LABEL_IDS = {"ACTIVE": 494, "SUSPENDED": 495, "EXPIRED": 496, "LOST": 497, "INACTIVE": 498}

UPGRADE_KINDS = ("CUMULATIVE_PURCHASES", "CURRENT_POINTS", "TRACKER_VALUE_BASED")
RENEW_KINDS = ("VISITS", "PURCHASE", "POINTS", "TRACKER")
TRACKER_MODES = (
    "MOVING_WINDOW",
    "CYCLIC_WINDOW",
    "CALENDAR_BASED_CYCLIC_WINDOW",
    "TIER_CHANGE_WINDOW",
)
TRACKER_TYPES = ("LINEITEM_COUNT", "TRANSACTION_AMOUNT", "VISIT_COUNT")
CRITERIA_TEXT = {
    "CURRENT_POINTS": "purchase required for slab upgradation based on current points",
    "CUMULATIVE_PURCHASES": "purchase required for slab upgradation based on cumulative purchases",
    "CUMULATIVE_POINTS": "purchase required for slab upgradation based on cumulative points",
    "TRACKER_VALUE_BASED": "purchase required for slab upgradation based on tracker value",
}
HISTORY_NOTES = {
    "UPGRADE": (
        "Upgrading to Slab : Slab[{n}]: Name [points] Description [transfer points] , Criteria: Primary",
        "manual slab adjustment reason: Upgraded for achieving 1000 loyalty points",
    ),
    "DOWNGRADE": ("Downgraded on tier expiry", "manual slab adjustment reason: goodwill reversal"),
    "RENEWAL": ("Tier renewed: renewal criteria met", "Renewed by member care agent"),
}
FRAUD_STATUSES = ("MARKED", "CONFIRMED", "RECONFIRMED", "INTERNAL")
GROUP_NAMES = ("Family", "Fleet", "Office", "Friends", "Book club", "Team")
SEGMENTS = {
    "Activity segment": ("Active", "Lapsed", "Dormant", "New"),
    "Value segment": ("High", "Medium", "Low"),
    "Channel preference": ("Online", "Store", "Omni"),
}
POINTS_TYPES = ("customer_promotions", "line_item_regular", "bill_regular")
