"""Tests of the Capillary sandbox itself, over real HTTP on a free loopback port."""

from __future__ import annotations

import base64
import hashlib
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
import requests

from lookup.sandbox import handler
from lookup.sandbox import server as server_module
from lookup.sandbox.data import GENERATED_RANGE, SEED_IDS, SHAPES, build_customer
from lookup.sandbox.faults import FAULT_IDS
from lookup.sandbox.jsonout import dumps
from lookup.sandbox.params import parse
from lookup.sandbox.render import render, timeless
from lookup.sandbox.server import SandboxConfig, SandboxServer

BUBALUS, TOM = SEED_IDS
ALL_EMBEDS = (
    "points,subscriptions,mlp,userGroup,gapDetails,promotionalPoints,expirySchedules,"
    "expiredPoints,customerImage,returnedPoints,associatedImages,segments"
)
FLAGS = "ndncStatus=true&optinStatus=true&slabHistory=true&tierUpgradeCriteria=true&membershipRetentionCriteria=true"
EVERYTHING = (
    f"source=ALL&embed={ALL_EMBEDS}&gapToUpgrade=0&gapToRenew=0&includedFraudDetails=true"
    f"&includedUserGroup2LoyaltyDetails=true&ug2PaginationDetails=true&{FLAGS}"
)
TIMELESS = EVERYTHING.replace("customerImage,", "").replace("associatedImages,", "")
BASE_KEYS = [
    "id",
    "profiles",
    "loyaltyInfo",
    "segments",
    "associatedWith",
    "extendedFields",
    "cardDetails",
    "warnings",
]
AUTH_FAILED = {
    "errors": [
        {
            "status": False,
            "code": 401,
            "message": "Authentication failed. Please check username and password.",
        }
    ]
}


def basic(username: str = "demo.till", password: str = "demo-password") -> dict[str, str]:
    digest = hashlib.md5(password.encode()).hexdigest()
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{digest}".encode()).decode()}


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    sandbox = SandboxServer(SandboxConfig(host="127.0.0.1", port=0, timeout_seconds=0.5))
    sandbox.start()
    yield sandbox
    sandbox.stop()


@pytest.fixture(autouse=True)
def _fresh_state(server: SandboxServer) -> Iterator[None]:
    # Overrides the project conftest's fixture of the same name: these tests need no Django.
    server.reset()
    server.set_latency(0, 0)
    yield


def get(
    server: SandboxServer, customer_id: int | str, query: str = "source=INSTORE", **kwargs: Any
) -> requests.Response:
    kwargs.setdefault("headers", basic())
    kwargs.setdefault("timeout", 10)
    return requests.get(f"{server.url}/v2/customers/{customer_id}?{query}", **kwargs)


def error_code(response: requests.Response) -> int:
    return response.json()["errors"][0]["code"]


# -- plumbing and auth -------------------------------------------------------------------------


def test_healthz(server: SandboxServer) -> None:
    response = requests.get(f"{server.url}/healthz", timeout=5)
    assert response.status_code == HTTPStatus.OK
    assert response.text == "ok"


def test_basic_auth_ok(server: SandboxServer) -> None:
    response = get(server, BUBALUS)
    assert response.status_code == HTTPStatus.OK
    assert response.headers["Content-Type"] == "application/json"
    assert len(response.headers["X-Cap-Requestid"]) == 32
    int(response.headers["X-Cap-Requestid"], 16)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        basic(password="wrong"),
        basic(username="other.till"),
        {"Authorization": "Basic not-base64!!"},
        {"Authorization": "Bearer abc"},
        {
            "Authorization": "Basic " + base64.b64encode(b"demo.till:demo-password").decode()
        },  # not md5
        {"X-CAP-API-OAUTH-TOKEN": "made-up"},
    ],
)
def test_auth_bad(server: SandboxServer, headers: dict[str, str]) -> None:
    response = get(server, BUBALUS, headers=headers)
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == AUTH_FAILED
    assert response.headers["X-Cap-Requestid"]
    assert response.headers["Content-Type"] == "application/json"


def test_oauth_token(server: SandboxServer) -> None:
    response = requests.post(
        f"{server.url}/v3/oauth/token/generate",
        json={"key": "demo-key", "secret": "demo-secret"},
        timeout=5,
    )
    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["errors"] is None
    assert body["data"]["ttlSeconds"] == 300
    token = body["data"]["accessToken"]
    assert get(server, TOM, headers={"X-CAP-API-OAUTH-TOKEN": token}).status_code == HTTPStatus.OK
    assert server.stats()["token_calls"] == 1


def test_oauth_wrong_secret(server: SandboxServer) -> None:
    response = requests.post(
        f"{server.url}/v3/oauth/token/generate", json={"key": "demo-key", "secret": "x"}, timeout=5
    )
    assert response.status_code == HTTPStatus.UNAUTHORIZED
    assert response.json() == {
        "data": None,
        "errors": [{"status": False, "code": 401, "message": "Failed to generate OAuth token"}],
    }


def test_oauth_token_expires() -> None:
    with SandboxServer(SandboxConfig(token_ttl_seconds=1)) as short:
        now = [1000.0]
        short.token_clock = lambda: now[0]
        response = requests.post(
            f"{short.url}/v3/oauth/token/generate",
            json={"key": "demo-key", "secret": "demo-secret"},
            timeout=5,
        )
        assert response.json()["data"]["ttlSeconds"] == 1
        headers = {"X-CAP-API-OAUTH-TOKEN": response.json()["data"]["accessToken"]}
        assert get(short, BUBALUS, headers=headers).status_code == HTTPStatus.OK
        now[0] += 0.5
        assert get(short, BUBALUS, headers=headers).status_code == HTTPStatus.OK
        now[0] += 0.5  # the token's whole second is up
        expired = get(short, BUBALUS, headers=headers)
        assert expired.status_code == HTTPStatus.UNAUTHORIZED
        assert expired.json() == AUTH_FAILED


# -- seed customers ------------------------------------------------------------------------------


def test_seed_bubalus_verbatim(server: SandboxServer, documented_customer: Any) -> None:
    response = get(server, BUBALUS)
    body = response.json()
    assert body == documented_customer(BUBALUS)
    assert list(body) == BASE_KEYS
    assert body["profiles"][0]["firstName"] == "Bubalus"
    assert body["profiles"][0]["identifiers"][1]["value"] == "[email protected]"
    assert len(body["cardDetails"]) == 5
    assert body["loyaltyInfo"]["lifetimePurchases"] == 221350
    assert b'"lifetimePurchases": 221350.000' in response.content  # the doc's exact text


def test_seed_tom_sawyer_blocks_only_with_flags(
    server: SandboxServer, documented_customer: Any
) -> None:
    plain = get(server, TOM).json()
    assert list(plain) == BASE_KEYS
    assert plain["profiles"][0]["lastName"] == "Sawyer"
    documented = get(server, TOM, f"source=INSTORE&{FLAGS}")
    assert documented.json() == documented_customer(TOM)
    assert list(documented.json()) == list(documented_customer(TOM))
    assert b'"lifetimePurchases": 10200.000' in documented.content
    only_ndnc = get(server, TOM, "source=INSTORE&ndncStatus=true").json()
    assert only_ndnc["ndncStatus"] == "NONE"
    assert "optinStatus" not in only_ndnc


def test_seed_embeds_consistent(server: SandboxServer) -> None:
    body = get(server, BUBALUS, "source=INSTORE&embed=points,mlp&gapToUpgrade=0").json()
    assert body["pointsSummary"]["cumulativePurchases"] == 221350.0
    program = body["loyaltyProgramDetails"][0]
    strategy = program["upgradeStrategies"][0]
    assert strategy["customerUpgradeEntityValues"]["currentValue"] == 221350.0
    assert strategy["customerUpgradeEntityValues"]["gapToUpgrade"] == 28650.0


# -- parameters ------------------------------------------------------------------------------------


def test_blocks_only_when_asked(server: SandboxServer) -> None:
    customer = SHAPES["typical"]
    assert list(get(server, customer).json()) == BASE_KEYS
    expected = {
        "points": "pointsSummary",
        "mlp": "loyaltyProgramDetails",
        "subscriptions": "subscriptionInfo",
        "promotionalPoints": "promotionalPoints",
        "expirySchedules": "expirySchedules",
        "expiredPoints": "expiredPoints",
        "returnedPoints": "returnedPoints",
        "customerImage": "customerImage",
        "associatedImages": "associatedImages",
        "userGroup": "userGroups",
    }
    for embed, key in expected.items():
        body = get(server, customer, f"source=INSTORE&embed={embed}").json()
        assert set(body) == {*BASE_KEYS, key}, embed
    mlp = get(server, customer, "source=INSTORE&embed=mlp").json()
    assert all(
        "upgradeStrategies" not in p and "gapToRenewSummary" not in p
        for p in mlp["loyaltyProgramDetails"]
    )
    gap_without_mlp = get(server, customer, "source=INSTORE&gapToUpgrade=0&gapToRenew=0").json()
    assert set(gap_without_mlp) == set(BASE_KEYS)
    assert (
        "fraudDetails" in get(server, customer, "source=INSTORE&includedFraudDetails=true").json()
    )
    assert (
        "ug2Pagination" in get(server, customer, "source=INSTORE&ug2PaginationDetails=true").json()
    )
    assert get(server, customer, "source=INSTORE&embed=segments").json()["segments"] != {}


def test_embed_and_source_case_insensitive(server: SandboxServer) -> None:
    body = get(server, BUBALUS, "source=instore&embed=POINTS, Mlp").json()
    assert "pointsSummary" in body
    assert "loyaltyProgramDetails" in body


def test_gap_blocks_per_program(server: SandboxServer) -> None:
    body = get(
        server, SHAPES["many_programs"], "source=ALL&embed=mlp&gapToUpgrade=0&gapToRenew=0"
    ).json()
    programs = body["loyaltyProgramDetails"]
    assert len(programs) == 4
    first = programs[0]
    assert first["upgradeStrategies"][0]["upgradeBasedOn"] in (
        "CUMULATIVE_PURCHASES",
        "CURRENT_POINTS",
        "TRACKER_VALUE_BASED",
    )
    assert "renewStrategies" in first["gapToRenewSummary"]
    assert "upgradeStrategies" not in body
    snake = get(server, SHAPES["upgrade_snake_case"], "source=ALL&embed=mlp&gapToUpgrade=0").json()
    assert "upgrade_based_on" in snake["loyaltyProgramDetails"][0]["upgradeStrategies"][0]


def test_gap_projection_shifts_numbers(server: SandboxServer) -> None:
    def values(days: int) -> tuple[Any, ...]:
        query = f"source=ALL&embed=mlp&gapToUpgrade={days}&gapToRenew={days}"
        body = get(server, SHAPES["many_programs"], query).json()
        entry = body["loyaltyProgramDetails"][0]["upgradeStrategies"][0][
            "customerUpgradeEntityValues"
        ]
        return entry["currentValue"], entry["valueValidUpto"]

    assert values(0) != values(30)
    assert values(30) == values(30)


def test_top_level_gaps(server: SandboxServer) -> None:
    body = get(
        server, SHAPES["top_level_gaps"], "source=ALL&embed=mlp&gapToUpgrade=1&gapToRenew=1"
    ).json()
    assert body["upgradeStrategies"]
    assert isinstance(body["gapToRenewSummary"], dict)
    assert all("upgradeStrategies" not in p for p in body["loyaltyProgramDetails"])
    listed = get(server, SHAPES["top_level_gaps_list"], "source=ALL&embed=mlp&gapToRenew=1").json()
    assert isinstance(listed["gapToRenewSummary"], list)


@pytest.mark.parametrize(
    ("query", "status", "code"),
    [
        ("", 400, 8016),
        ("source=", 400, 8016),
        ("source=FACEBOOK", 400, 8003),
        ("source=INSTORE&embed=points,bogus", 400, 400),
        ("source=INSTORE&embed=userGroup&ug2Limit=101", 400, 8102),
        ("source=INSTORE&ug2Offset=-1", 400, 8100),
        ("source=INSTORE&ug2SortOrder=SIDEWAYS", 400, 400),
        ("source=INSTORE&embed=mlp&gapToUpgrade=-1", 400, 400),
        ("source=INSTORE&includedFraudDetails=maybe", 400, 400),
    ],
)
def test_bad_parameters(server: SandboxServer, query: str, status: int, code: int) -> None:
    response = get(server, SHAPES["typical"], query)
    assert response.status_code == status
    assert error_code(response) == code


def test_invalid_embed_message(server: SandboxServer) -> None:
    response = get(server, BUBALUS, "source=INSTORE&embed=bogus")
    assert response.json() == {
        "errors": [{"status": False, "code": 400, "message": "Invalid embed value"}]
    }


def test_unknown_and_invalid_ids(server: SandboxServer) -> None:
    missing = get(server, 123)
    assert missing.status_code == HTTPStatus.NOT_FOUND
    assert missing.json() == {
        "errors": [
            {
                "status": False,
                "code": 8015,
                "message": "Customer not found for the given identifiers",
            }
        ]
    }
    invalid = get(server, "abc")
    assert invalid.status_code == HTTPStatus.BAD_REQUEST
    assert invalid.json()["errors"][0] == {
        "status": False,
        "code": 400,
        "message": "Invalid customer id",
    }


def test_source_filtering(server: SandboxServer) -> None:
    customer = SHAPES["multi_source"]

    def sources(query: str) -> list[str]:
        return [p["source"] for p in get(server, customer, query).json()["profiles"]]

    assert sources("source=INSTORE") == ["INSTORE"]
    assert sources("source=ALL") == ["INSTORE", "WECHAT", "WECHAT", "LINE", "MARTJACK"]
    assert sources("source=ALL&includedOnlyCurrentProfile=true") == ["INSTORE"]
    assert sources("source=MARTJACK") == ["MARTJACK"]
    wechat = get(server, customer, "source=WECHAT").json()
    assert [p["accountId"] for p in wechat["profiles"]] == ["wx-acc-1", "wx-acc-2"]
    assert wechat["warnings"][0]["code"] == 8054
    one = get(server, customer, "source=WECHAT&accountId=wx-acc-2").json()
    assert [p["accountId"] for p in one["profiles"]] == ["wx-acc-2"]
    assert one["warnings"] == []
    assert error_code(get(server, customer, "source=WECHAT&accountId=nope")) == 8065
    miss = get(server, BUBALUS, "source=WECHAT")
    assert miss.status_code == HTTPStatus.BAD_REQUEST
    assert miss.json() == {
        "errors": [{"status": False, "code": 8065, "message": "User not found for given source"}]
    }
    assert error_code(get(server, SHAPES["no_instore"], "source=INSTORE")) == 8065


def test_user_group_paging(server: SandboxServer) -> None:
    customer = SHAPES["paged_groups"]
    groups = "source=INSTORE&embed=userGroup&ug2PaginationDetails=true"
    query = f"{groups}&ug2Limit=20"
    first = get(server, customer, f"{query}&ug2Offset=0").json()
    total = first["ug2Pagination"]["total"]
    assert total > 40
    assert first["ug2Pagination"] == {"limit": 20, "offset": 0, "total": total}
    seen = []
    for offset in range(0, total, 20):
        seen += [
            g["id"]
            for g in get(server, customer, f"{query}&ug2Offset={offset}").json()["userGroups"]
        ]
    assert len(seen) == len(set(seen)) == total
    default = get(server, customer, "source=INSTORE&embed=userGroup").json()["userGroups"]
    assert len(default) == 10
    joined = [datetime.fromisoformat(g["joinedDate"]) for g in default]
    assert joined == sorted(joined, reverse=True)  # JoinedDate DESC by default
    ascending = get(server, customer, f"{groups}&ug2SortOrder=ASC&ug2Limit=100").json()[
        "userGroups"
    ]
    descending = get(server, customer, f"{groups}&ug2SortOrder=DESC&ug2Limit=100").json()[
        "userGroups"
    ]
    assert len(ascending) == total
    assert ascending == descending[::-1]
    assert {g["role"] for g in ascending} <= {"PRIMARY", "SECONDARY"}
    assert "loyaltyDetails" not in ascending[0]
    cutoff = datetime.fromisoformat(ascending[len(ascending) // 2]["joinedDate"]).astimezone(UTC)
    recent = get(
        server, customer, f"{groups}&ug2Limit=100&ug2JoinedStartDate={cutoff:%Y-%m-%dT%H:%M:%SZ}"
    ).json()
    assert 0 < recent["ug2Pagination"]["total"] < total
    with_loyalty = get(server, customer, f"{query}&includedUserGroup2LoyaltyDetails=true").json()
    assert "loyaltyDetails" in with_loyalty["userGroups"][0]
    one_id = ascending[3]["id"]
    only = get(server, customer, f"source=INSTORE&userGroup2Id={one_id}").json()
    assert [g["id"] for g in only["userGroups"]] == [one_id]


def test_customer_image_is_served(server: SandboxServer) -> None:
    body = get(server, BUBALUS, "source=INSTORE&embed=customerImage,associatedImages").json()
    url = body["customerImage"][0]["secureFilePath"]
    assert url.startswith(
        f"{server.url}/__sandbox/images/{BUBALUS}.png?X-Amz-Expires=3600&X-Amz-Date="
    )
    image = requests.get(url, timeout=5)
    assert image.status_code == HTTPStatus.OK
    assert image.headers["Content-Type"] == "image/png"
    assert image.content.startswith(b"\x89PNG\r\n\x1a\n")
    barcode = body["associatedImages"][0]
    assert barcode["type"] == "BARCODE"
    assert requests.get(barcode["imageUrl"], timeout=5).content.startswith(b"\x89PNG")


# -- faults ----------------------------------------------------------------------------------------

CANNED = {
    "http_500": (500, 500),
    "http_503": (503, 4001),
    "rate_limited": (429, 429),
    "rate_limited_517": (400, 517),
    "http_521": (521, 521),
    "http_461": (461, 461),
    "pii_deleted": (400, 8109),
    "merged": (400, 8069),
    "not_permitted": (403, 4000),
    "bad_request": (400, 400),
    "not_found_8065": (400, 8065),
    "not_found": (404, 8015),
    "unauthorized": (401, 401),
}


@pytest.mark.parametrize(("fault", "expected"), CANNED.items())
def test_fault_ids(server: SandboxServer, fault: str, expected: tuple[int, int]) -> None:
    response = get(server, FAULT_IDS[fault])
    assert (response.status_code, error_code(response)) == expected
    assert response.headers["X-Cap-Requestid"]


def test_fault_bodies(server: SandboxServer) -> None:
    assert get(server, FAULT_IDS["http_503"]).json() == {
        "errors": [{"code": 4001, "message": "Authorization status unavailable!"}]
    }
    assert get(server, FAULT_IDS["rate_limited"]).headers["Retry-After"] == "7"
    assert get(server, FAULT_IDS["pii_deleted"]).json() == {
        "errors": [
            {
                "status": False,
                "code": 8109,
                "message": "Customer is deleted after PII delete request",
            }
        ]
    }
    assert get(server, FAULT_IDS["not_permitted"]).json() == {
        "errors": [{"status": False, "code": 4000, "message": "Not authorized. Access is denied!"}]
    }
    merged = get(server, FAULT_IDS["merged"]).json()["errors"]
    assert merged[0]["message"] == "Merged customer found"
    assert merged[1]["code"] == 91009
    assert str(GENERATED_RANGE.start + FAULT_IDS["merged"] % 10_000) in merged[1]["message"]


def test_fault_html_wrong_shape_malformed(server: SandboxServer) -> None:
    html = get(server, FAULT_IDS["html_error"])
    assert html.status_code == HTTPStatus.BAD_GATEWAY
    assert html.headers["Content-Type"].startswith("text/html")
    assert "<html>" in html.text
    assert isinstance(get(server, FAULT_IDS["wrong_shape"]).json(), list)
    malformed = get(server, FAULT_IDS["malformed_json"])
    assert malformed.status_code == HTTPStatus.OK
    with pytest.raises(ValueError):
        json.loads(malformed.text)


def test_fault_points_warning(server: SandboxServer) -> None:
    body = get(server, FAULT_IDS["points_warning"], "source=INSTORE&embed=points,mlp").json()
    assert "pointsSummary" not in body
    assert "loyaltyProgramDetails" in body
    assert body["warnings"] == [
        {"status": False, "code": 8062, "message": "Points details fetch failed"}
    ]


def test_fault_timeout(server: SandboxServer) -> None:
    started = time.monotonic()
    response = get(server, FAULT_IDS["timeout"])
    assert time.monotonic() - started >= 0.5
    assert response.status_code == HTTPStatus.OK
    with pytest.raises(requests.exceptions.ReadTimeout):
        get(server, FAULT_IDS["timeout"], timeout=0.1)


def test_fault_trickle(server: SandboxServer) -> None:
    server.set_fault(FAULT_IDS["trickle"], "trickle", interval=0.1)
    started = time.monotonic()
    with get(server, FAULT_IDS["trickle"], stream=True) as response:
        assert response.status_code == HTTPStatus.OK
        assert "Content-Length" not in response.headers
        head = response.raw.read(4)
    assert head == b'{"id'
    assert time.monotonic() - started >= 0.3


def test_runtime_fault_for_everyone(server: SandboxServer) -> None:
    server.set_fault(None, "http_503")
    assert get(server, BUBALUS).status_code == HTTPStatus.SERVICE_UNAVAILABLE
    assert get(server, SHAPES["typical"]).status_code == HTTPStatus.SERVICE_UNAVAILABLE
    server.set_fault(None, None)
    assert get(server, BUBALUS).status_code == HTTPStatus.OK


def test_runtime_fault_per_customer(server: SandboxServer) -> None:
    server.set_fault(TOM, "rate_limited", retry_after=3)
    limited = get(server, TOM)
    assert limited.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert limited.headers["Retry-After"] == "3"
    assert get(server, BUBALUS).status_code == HTTPStatus.OK
    server.reset()
    assert get(server, TOM).status_code == HTTPStatus.OK
    with pytest.raises(ValueError):
        server.set_fault(TOM, "meteor_strike")


def test_control_endpoints(server: SandboxServer) -> None:
    control = f"{server.url}/__sandbox"
    ok = requests.post(
        f"{control}/faults",
        json={"customer_id": BUBALUS, "fault": "merged", "survivor_id": 42},
        timeout=5,
    )
    assert ok.status_code == HTTPStatus.OK
    assert ok.json()["runtime"][str(BUBALUS)] == {"fault": "merged", "survivor_id": 42}
    assert "42" in get(server, BUBALUS).json()["errors"][1]["message"]
    requests.post(f"{control}/faults", json={"customer_id": BUBALUS, "fault": "none"}, timeout=5)
    assert get(server, BUBALUS).status_code == HTTPStatus.OK
    requests.post(
        f"{control}/faults", json={"customer_id": None, "fault": "not_permitted"}, timeout=5
    )
    assert get(server, TOM).status_code == HTTPStatus.FORBIDDEN
    assert requests.post(f"{control}/reset", timeout=5).json() == {"ok": True}
    assert get(server, TOM).status_code == HTTPStatus.OK
    bad = requests.post(
        f"{control}/faults", json={"customer_id": None, "fault": "meteor_strike"}, timeout=5
    )
    assert bad.status_code == HTTPStatus.BAD_REQUEST
    listing = requests.get(f"{control}/faults", timeout=5).json()
    assert listing["fixed"] == FAULT_IDS
    shapes = requests.get(f"{control}/shapes", timeout=5).json()
    assert shapes["shapes"] == SHAPES


def test_latency(monkeypatch: pytest.MonkeyPatch) -> None:
    # A server of its own: a request another test left running must not join the count below.
    server = SandboxServer(SandboxConfig(host="127.0.0.1", port=0, timeout_seconds=0.5))
    server.start()
    try:
        response = requests.post(
            f"{server.url}/__sandbox/latency", json={"fixed_ms": 150, "jitter_ms": 0}, timeout=5
        )
        assert response.json() == {"ok": True, "fixed_ms": 150.0, "jitter_ms": 0.0}
        # Concurrent calls overlap: each call's latency hold waits until all eight are held at
        # once, which a server that answered one call at a time would never reach.
        all_held = threading.Barrier(8, timeout=60)
        real_hold = server.sleep_latency

        def hold(started: float | None = None) -> None:
            all_held.wait()
            real_hold(started)

        monkeypatch.setattr(server, "sleep_latency", hold)
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=8) as pool:
            # Generous client deadline: on a loaded machine eight threads may start slowly.
            statuses = list(
                pool.map(lambda _: get(server, BUBALUS, timeout=90).status_code, range(8))
            )
        elapsed = time.monotonic() - started
        assert statuses == [200] * 8
        assert not all_held.broken
        assert elapsed >= 0.15
    finally:
        server.stop()


def timed(call: Any) -> tuple[float, Any]:
    started = time.monotonic()
    result = call()
    return time.monotonic() - started, result


@pytest.fixture
def waits(server: SandboxServer, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record every sleep the sandbox asks for, in seconds: what is left of a latency floor,
    or a fault's own sleep.

    Asserting on what the sandbox asked for, rather than on how long a call took, holds on a
    loaded machine: the wall clock only ever adds time.
    """
    asked: list[float] = []
    real_wait = server.wait

    def wait(seconds: float) -> bool:
        asked.append(seconds)
        return real_wait(seconds)

    monkeypatch.setattr(server, "wait", wait)
    return asked


def slow_renderer(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Make the sandbox's own work (rendering a customer) take `seconds` longer."""
    real = handler.customer_response

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(seconds)
        return real(*args, **kwargs)

    monkeypatch.setattr(handler, "customer_response", slow)


def test_latency_is_a_floor_not_an_addition(
    server: SandboxServer, monkeypatch: pytest.MonkeyPatch, waits: list[float]
) -> None:
    latency = 0.3
    server.set_latency(latency * 1000)
    elapsed, response = timed(lambda: get(server, SHAPES["typical"]))
    assert response.status_code == HTTPStatus.OK
    assert elapsed >= latency  # instant work: the floor holds
    assert len(waits) <= 1 and all(w <= latency for w in waits), waits  # and is slept once

    waits.clear()
    server.reset()  # forget the kept answer, so the sandbox works on the second call too
    slow_renderer(monkeypatch, latency / 2)  # the sandbox's own work takes half the latency
    elapsed, response = timed(lambda: get(server, SHAPES["typical"]))
    assert response.status_code == HTTPStatus.OK
    assert elapsed >= latency
    # Not latency + work: at most the half of the floor the work left is slept.
    assert len(waits) <= 1 and all(w <= latency / 2 + 0.001 for w in waits), waits


def test_latency_floor_when_work_is_slower(
    server: SandboxServer, monkeypatch: pytest.MonkeyPatch, waits: list[float]
) -> None:
    latency = 0.1
    server.set_latency(latency * 1000)
    slow_renderer(monkeypatch, 3 * latency)
    elapsed, response = timed(lambda: get(server, BUBALUS))
    assert response.status_code == HTTPStatus.OK
    assert elapsed >= 3 * latency
    assert waits == []  # nothing left of the floor to sleep


@pytest.mark.parametrize(
    "call",
    [
        lambda s: get(s, BUBALUS, headers={}),  # 401
        lambda s: get(s, 999),  # 404
        lambda s: get(s, BUBALUS, "source=NOWHERE"),  # 400
        lambda s: get(s, FAULT_IDS["http_503"]),
        lambda s: get(s, FAULT_IDS["malformed_json"]),
        lambda s: requests.post(
            f"{s.url}/v3/oauth/token/generate",
            json={"key": "demo-key", "secret": "demo-secret"},
            timeout=5,
        ),
        lambda s: requests.post(
            f"{s.url}/v3/oauth/token/generate", json={"key": "wrong"}, timeout=5
        ),
    ],
    ids=["401", "404", "400", "fault-503", "fault-malformed", "token", "token-401"],
)
def test_latency_floor_on_every_answer(
    server: SandboxServer, call: Any, waits: list[float]
) -> None:
    latency = 0.2
    server.set_latency(latency * 1000)
    elapsed, response = timed(lambda: call(server))
    assert response.status_code
    assert elapsed >= latency
    assert len(waits) <= 1 and all(w <= latency for w in waits), waits  # slept once at most


def test_latency_spares_the_control_api(server: SandboxServer, waits: list[float]) -> None:
    server.set_latency(500)
    response = requests.get(f"{server.url}/__sandbox/stats", timeout=5)
    assert response.status_code == HTTPStatus.OK
    assert waits == []  # the control API answers at once, whatever the latency


def test_timeout_fault_still_sleeps_its_own_timeout(
    server: SandboxServer, waits: list[float]
) -> None:
    server.set_latency(100)
    elapsed, response = timed(lambda: get(server, FAULT_IDS["timeout"]))
    assert response.status_code == HTTPStatus.OK
    assert elapsed >= 0.5  # the fixture's timeout_seconds, not the 0.1 s floor
    assert 0.5 in waits, waits


def test_stop_wakes_a_request_held_by_the_latency() -> None:
    sandbox = SandboxServer(SandboxConfig(host="127.0.0.1", port=0, latency_ms=30_000))
    held = threading.Event()
    real_wait = sandbox.wait

    def wait(seconds: float) -> bool:
        held.set()
        return real_wait(seconds)

    sandbox.wait = wait
    sandbox.start()
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(lambda: get(sandbox, BUBALUS, timeout=25))
        assert held.wait(10), "the request never reached the latency hold"
        started = time.monotonic()
        sandbox.stop()
        assert pending.result().status_code == HTTPStatus.OK  # answered at once, not in 30 s
    elapsed = time.monotonic() - started
    assert elapsed < 20, f"stop took {elapsed:.2f} s to wake the request"


def test_stats(server: SandboxServer) -> None:
    get(server, BUBALUS, "source=INSTORE&embed=mlp,POINTS")
    get(server, BUBALUS)
    get(server, TOM, headers={})
    stats = server.stats()
    assert stats["customer_calls"] == 3
    assert stats["by_customer"] == {BUBALUS: 2, TOM: 1}
    assert stats["embeds"] == [["mlp", "points"], [], []]
    assert stats["by_status"] == {200: 2, 401: 1}
    over_http = requests.get(f"{server.url}/__sandbox/stats", timeout=5).json()
    assert over_http["customer_calls"] == 3
    assert over_http["by_customer"] == {str(BUBALUS): 2, str(TOM): 1}
    server.reset()
    assert server.stats()["customer_calls"] == 0


# -- the generated population ---------------------------------------------------------------------


def test_generated_customers_are_deterministic(server: SandboxServer) -> None:
    query = TIMELESS
    for customer in (GENERATED_RANGE.start, GENERATED_RANGE.start + 4567, GENERATED_RANGE.stop - 1):
        assert get(server, customer, query).content == get(server, customer, query).content
    assert (
        get(server, GENERATED_RANGE.start + 1).content
        != get(server, GENERATED_RANGE.start + 2).content
    )


def test_generation_is_fast() -> None:
    params = parse(EVERYTHING)
    now = datetime.now(UTC)
    # CPU time, not wall time: other work on a loaded machine does not count against it.
    started = time.process_time()
    for customer in range(GENERATED_RANGE.start, GENERATED_RANGE.start + 200):
        built = build_customer(customer)
        assert built is not None
        render(built, params, "http://127.0.0.1", now.date(), now)
    each = (time.process_time() - started) / 200
    assert each < 0.005, f"{each * 1000:.2f} ms of CPU per customer (about 0.4 ms is usual)"


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_every_shape_builds(server: SandboxServer, shape: str) -> None:
    response = get(server, SHAPES[shape], EVERYTHING)
    assert response.status_code == HTTPStatus.OK
    body = json.loads(response.content.decode("utf-8"))
    assert body["id"] == SHAPES[shape]


def test_shape_contents(server: SandboxServer) -> None:
    def body(shape: str) -> dict[str, Any]:
        return get(server, SHAPES[shape], EVERYTHING).json()

    assert len(body("many_programs")["loyaltyProgramDetails"]) == 4
    assert body("no_programs")["loyaltyProgramDetails"] == []
    empty = body("empty")
    assert empty["loyaltyInfo"] is None
    assert "cardDetails" not in empty
    assert not empty["profiles"][0].get("firstName")
    assert body("unicode_cjk")["profiles"][0]["lastName"] in (
        "王",
        "李",
        "张",
        "刘",
        "陈",
        "山田",
        "佐藤",
        "김",
        "박",
    )
    assert any(
        "\u0600" <= ch <= "\u06ff" for ch in body("unicode_arabic")["profiles"][0]["firstName"]
    )
    assert any(
        ord(ch) > 0xFFFF for ch in json.dumps(body("emoji")["profiles"][0], ensure_ascii=False)
    )
    hostile = get(server, SHAPES["hostile"], EVERYTHING)
    assert hostile.json()["profiles"][0]["firstName"] == "<script>window.__xss=1</script>"
    for needle in ("onerror=window.__xss=1", "{{ 7*7 }}", "'; DROP TABLE--"):
        assert needle in hostile.text
    assert max(len(v) for v in hostile.json()["extendedFields"].values()) >= 5000
    cards = body("many_cards")["cardDetails"]
    assert {c["statusInfo"]["status"] for c in cards} == {
        "ACTIVE",
        "SUSPENDED",
        "EXPIRED",
        "LOST",
        "INACTIVE",
    }
    soon = datetime.now(UTC) + timedelta(days=30)
    assert any(
        datetime.now(UTC) < datetime.fromisoformat(c["expiryDate"]) < soon
        for c in cards
        if "expiryDate" in c
    )
    assert any("createdDateTimeISO" in c for c in cards) and any(
        "createdDateTimeISO" not in c for c in cards
    )
    assert len(body("long_history")["slabHistory"]) >= 30
    assert body("paged_groups")["ug2Pagination"]["total"] > 40
    assert body("fraud")["fraudDetails"]["status"] in (
        "MARKED",
        "CONFIRMED",
        "RECONFIRMED",
        "INTERNAL",
    )
    assert body("top_level_gaps")["upgradeStrategies"]
    assert isinstance(body("string_numbers")["loyaltyInfo"]["lifetimePurchases"], str)
    assert "membershipRetentionCriteria" not in body("no_downgrade")
    assert "membershipRetentionCriteria" in body("many_programs")


# -- reuse of built customers and encoded answers ----------------------------------------------


def fresh_body(customer_id: int, query: str) -> bytes:
    """Return the body built from scratch, bypassing every cache."""
    now = datetime.now(UTC)
    built = build_customer(customer_id, now.date())
    assert built is not None
    return dumps(render(built, parse(query), "http://unused", now.date(), now))


@pytest.mark.parametrize("shape", ["many_programs", "top_level_gaps", "hostile", "seed_bubalus"])
def test_reused_answers_match_fresh_ones(server: SandboxServer, shape: str) -> None:
    queries = [
        "source=INSTORE",
        "source=INSTORE&embed=points",
        "source=ALL&embed=mlp&gapToUpgrade=5&gapToRenew=9",
        TIMELESS,
        "source=ALL&embed=userGroup&ug2SortBy=name&ug2Limit=2&includedUserGroup2LoyaltyDetails=1",
    ]
    for query in queries * 2:  # the second round is served from the caches
        response = get(server, SHAPES[shape], query)
        assert response.status_code == HTTPStatus.OK
        assert response.content == fresh_body(SHAPES[shape], query)


def test_blocks_built_by_racing_requests_match_fresh_ones(server: SandboxServer) -> None:
    customers = range(GENERATED_RANGE.start + 9000, GENERATED_RANGE.start + 9030)
    queries = [TIMELESS, f"source=ALL&embed=userGroup,segments&{FLAGS}", "source=ALL&embed=mlp"]
    calls = [(customer, query) for customer in customers for query in queries]
    with ThreadPoolExecutor(max_workers=16) as pool:
        bodies = list(pool.map(lambda call: get(server, *call).content, calls))
    assert bodies == [fresh_body(customer, query) for customer, query in calls]


def test_faults_apply_to_answers_given_before(server: SandboxServer) -> None:
    customer, query = SHAPES["typical"], "source=INSTORE&embed=points,mlp"
    before = get(server, customer, query).content
    server.set_fault(customer, "http_500")
    assert get(server, customer, query).status_code == HTTPStatus.INTERNAL_SERVER_ERROR
    server.set_fault(customer, "points_warning")
    warned = get(server, customer, query).json()
    assert "pointsSummary" not in warned
    assert warned["warnings"][-1]["code"] == 8062
    server.set_fault(customer, None)
    assert get(server, customer, query).content == before


def test_answers_with_a_clock_are_not_reused() -> None:
    assert timeless("source=INSTORE&embed=points,mlp")
    assert timeless("source=NOWHERE")
    assert not timeless("source=INSTORE&embed=customerImage")
    assert not timeless("source=INSTORE&embed=points,ASSOCIATEDIMAGES")


def test_kept_answers_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(server_module, "MAX_ANSWER_BYTES", 1600)
    sandbox = SandboxServer()
    for key in range(17):
        sandbox.keep_answer(key, (200, bytes(100)))
    assert sandbox.cached_answer(0) is None  # the least recently used went first
    assert sandbox.cached_answer(16) == (200, bytes(100))
    sandbox.keep_answer("too big", (200, bytes(101)))
    assert sandbox.cached_answer("too big") is None
    sandbox.reset()
    assert sandbox.cached_answer(16) is None


def test_remembered_auth_verdicts(server: SandboxServer) -> None:
    for _ in range(3):
        assert get(server, BUBALUS).status_code == HTTPStatus.OK
        assert get(server, BUBALUS, headers=basic(password="wrong")).status_code == 401
        assert get(server, BUBALUS, headers={"Authorization": ""}).status_code == 401


def test_whole_population_smoke() -> None:
    params = parse(EVERYTHING)
    now = datetime.now(UTC)
    for customer in range(GENERATED_RANGE.start, GENERATED_RANGE.stop, 97):
        built = build_customer(customer, now.date())
        assert built is not None
        assert render(built, params, "http://127.0.0.1", now.date(), now)["id"] == customer


# -- command line ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [["-m", "lookup.sandbox"], ["manage.py", "sandbox"]], ids=["module", "manage"]
)
def test_cli_starts_and_stops(command: list[str]) -> None:
    root = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        [sys.executable, *command, "--port", "0", "--latency-ms", "1"],
        cwd=root,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("Sandbox listening on http://127.0.0.1:")
        url = line.removeprefix("Sandbox listening on ")
        assert requests.get(f"{url}/healthz", timeout=5).text == "ok"
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()


def test_fault_share(server: SandboxServer) -> None:
    server.set_fault(None, "http_500", share=0.25)
    failing = sum(server.fault_for(100000001) is not None for _ in range(2000))
    assert 350 < failing < 650
    server.set_fault(None, None)
    assert server.fault_for(100000001) is None
    with pytest.raises(ValueError):
        server.set_fault(None, "http_500", share=2)
