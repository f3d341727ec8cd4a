"""The benchmark's figures computed from its measurements, and the targets they are held to."""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin

# A page or tab that shows this lost part of its data to an upstream failure: the header's
# and the tabs' error panels both say "... could not be loaded".
DEGRADED_MARK = "could not be loaded"
# The faults a failing customer answers with: a 500, or a 200 whose body is cut short.
ISOLATION_FAULTS = ("http_500", "malformed_json")


@dataclass(frozen=True)
class Target:
    """A figure's goal: `op` is "min" (at least), "max" (at most) or "exact"."""

    figure: str
    op: str
    value: float

    def met(self, measured: float | None) -> bool | None:
        """Return whether the measured value meets the target (None when not measured)."""
        if measured is None:
            return None
        if self.op == "min":
            return measured >= self.value
        if self.op == "max":
            return measured <= self.value
        return measured == self.value

    def __str__(self) -> str:
        sign = {"min": "≥", "max": "≤", "exact": "exactly"}[self.op]
        return f"{sign} {self.value:g}"


TARGETS = (
    Target("hit_page_ratio", "min", 0.25),
    Target("hit_tab_ratio", "min", 0.35),
    Target("miss_overhead_p50_ms", "max", 8),
    Target("miss_efficiency", "min", 0.5),
    Target("calls_per_cold_page", "exact", 1),
    Target("calls_per_full_walk", "max", 5),
    Target("breaker_isolation", "exact", 1.0),
    Target("coalesce_calls_processes", "exact", 1),
    Target("coalesce_calls_instances", "exact", 1),
    Target("stale_p50_ms", "max", 20),
    Target("rss_mb_per_worker", "max", 120),
)


def ratio(numerator: float | None, denominator: float | None, digits: int = 3) -> float | None:
    """Return numerator / denominator rounded, or None when either is missing or zero."""
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, digits)


def miss_efficiency(miss_rps: float, proxy_rps: float) -> float | None:
    """Return cold pages a second as a share of what the bare one-call view manages."""
    return ratio(miss_rps, proxy_rps)


def miss_efficiency_ideal(miss_rps: float, agents: int, latency_ms: float) -> float | None:
    """Return cold pages a second as a share of `agents` each waiting only the latency."""
    return ratio(miss_rps, agents / (latency_ms / 1000))


def overhead_ms(page_p50_ms: float, floor_p50_ms: float) -> float:
    """Return what the page adds to the floor's median time, in ms."""
    return round(page_p50_ms - floor_p50_ms, 1)


def calls_per(calls: Iterable[int]) -> float | None:
    """Return the mean of per-customer upstream call counts, to two places."""
    counts = list(calls)
    return round(statistics.fmean(counts), 2) if counts else None


def fault_plan(customer_ids: Sequence[int], share: float = 0.05) -> dict[int, str]:
    """Return the customers that always fail, spread evenly, and the fault of each.

    One in every `1 / share`, from the middle of each stretch, taking turns between the
    faults in ISOLATION_FAULTS.
    """
    step = max(1, round(1 / share))
    chosen = customer_ids[step // 2 :: step]
    return {cid: ISOLATION_FAULTS[i % len(ISOLATION_FAULTS)] for i, cid in enumerate(chosen)}


def answered_normally(status: int, marked: bool) -> bool:
    """Return whether a lookup was answered as if Capillary were healthy."""
    return status == 200 and not marked


def breaker_isolation(outcomes: Iterable[Sequence], healthy: Iterable[str]) -> float | None:
    """Return the share of lookups of healthy URLs answered normally.

    `outcomes` holds (url, status, marked, attempt) for every request of the run. A lookup
    is judged by its first answer: retries, and the failing customers, are left out.
    """
    wanted = set(healthy)
    seen = [
        answered_normally(status, marked)
        for url, status, marked, attempt in outcomes
        if url in wanted and attempt == 1
    ]
    return round(sum(seen) / len(seen), 3) if seen else None


class _TabLinks(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("role") == "tab":
            url = found.get("hx-get") or found.get("href")
            if url:
                self.urls.append(url)


def tab_urls(html: str, base: str) -> list[str]:
    """Return the URLs a browser asks for when each tab of the page is clicked, in order."""
    parser = _TabLinks()
    parser.feed(html)
    return [urljoin(base, url) for url in dict.fromkeys(parser.urls)]


def verdicts(figures: Mapping[str, float | None]) -> list[tuple[str, float | None, str, str]]:
    """Return (figure, value, target, verdict) for every figure with a target."""
    rows = []
    for target in TARGETS:
        value = figures.get(target.figure)
        met = target.met(value)
        verdict = "not measured" if met is None else "met" if met else "NOT MET"
        rows.append((target.figure, value, str(target), verdict))
    return rows
