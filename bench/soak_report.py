"""The soak's figures: memory of gunicorn's workers, latency percentiles, the printed report."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

TARGETS = {"dashboard_5xx": "0", "audit_missing": "0", "memory_growth_pct": "<= 10"}


def percentile(values: list[float], fraction: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1)


def rss_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def workers_of(master: int) -> list[int]:
    """Return the pids of a gunicorn master's workers."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            if re.search(rf"^PPid:\s*{master}$", status, re.M):
                found.append(int(entry.name))
    return found


def figures(
    result: dict,
    audited: dict[str, bool | None],
    upstream: int,
    quota: float,
    memory_start: dict[int, int],
    memory_end: dict[int, int],
) -> dict:
    """Return the soak's figures from the load runner's timings and the audit trail."""
    timings = result["timings"]
    answered = [t for t in timings if t[0]]
    # Every answered customer URL is one page view with one "lookup" audit record; the
    # search form's redirects (302) are not page views.
    customer = [t for t in answered if t[0] != 302]
    hits = [t[1] for t in customer if audited.get(t[2]) is True]
    misses = [t[1] for t in customer if audited.get(t[2]) is False]
    all_ms = [t[1] for t in answered]
    growth = [
        (memory_end[pid] - kb) / kb * 100 for pid, kb in memory_start.items() if pid in memory_end
    ]
    statuses = result["statuses"]
    return {
        "requests": len(answered),
        "unanswered": len(timings) - len(answered),
        "failovers": result.get("failovers", 0),
        "dashboard_5xx": int(statuses.get("500", 0)),
        "upstream_error_pages": sum(int(statuses.get(s, 0)) for s in ("502", "503", "504")),
        "stale_pages": sum(1 for t in timings if t[3]),
        "upstream_calls": upstream,
        "page_views": len(customer),
        "calls_per_page_view": round(upstream / len(customer), 3) if customer else None,
        "quota_refused": int(quota),
        "p50_ms": percentile(all_ms, 0.5),
        "p95_ms": percentile(all_ms, 0.95),
        "p99_ms": percentile(all_ms, 0.99),
        "hit_p50_ms": percentile(hits, 0.5),
        "hit_p95_ms": percentile(hits, 0.95),
        "hit_p99_ms": percentile(hits, 0.99),
        "miss_p50_ms": percentile(misses, 0.5),
        "miss_p95_ms": percentile(misses, 0.95),
        "miss_p99_ms": percentile(misses, 0.99),
        "memory_growth_pct": round(max(growth), 1) if growth else None,
        "audit_missing": len(customer) - len(audited),
        "statuses": statuses,
        "workers_mb": [
            (round(kb / 1024, 1), round(memory_end[pid] / 1024, 1))
            for pid, kb in sorted(memory_start.items())
            if pid in memory_end
        ],
    }


def show(
    figures: dict, header: str, seconds: float, events: list[tuple[float, str]], notes: list[str]
) -> None:
    """Print the events, the figures with their targets and, last, one JSON line."""
    print(f"Customer Lookup soak ({os.cpu_count()} CPUs, {seconds:.0f} s)")
    print(header)
    print("Events")
    for at, what in events:
        print(f"  {at:6.1f} s  {what}")
    print("Figures")
    width = max(len(name) for name in figures)
    for name, value in figures.items():
        if name in ("statuses", "workers_mb"):
            continue
        target = TARGETS.get(name, "")
        print(f"  {name.ljust(width)}  {str(value):>10}  {target}")
    print(f"  statuses: {figures['statuses']}")
    memory = ", ".join(f"{start} -> {end}" for start, end in figures["workers_mb"])
    print(f"  each worker's memory after warm-up and at the end, MB: {memory}")
    for note in notes:
        print(f"  note: {note}")
    print(json.dumps({k: v for k, v in figures.items() if k not in ("statuses", "workers_mb")}))
