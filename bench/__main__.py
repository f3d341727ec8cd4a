"""`python -m bench`: start the sandbox and the dashboard under gunicorn, drive load, report.

Everything runs on loopback with a temporary data directory, is bounded in requests and
time, and stops by itself. The last line printed is one JSON object of figures.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from bench import figures as calc
from bench.servers import DEMO_BASIC, SEED, Bench, customers


def page(base: str, cid: int) -> str:
    return f"{base}/customers/{cid}/?source=INSTORE"


def proxy(base: str, cid: int) -> str:
    """Return the URL of the bare one-call view (the floor) for this customer."""
    return f"{base}/bench/proxy/{cid}/?source=INSTORE"


def median_run(runs: list[dict]) -> dict:
    """Return the run with the median throughput."""
    return sorted(runs, key=lambda run: run["rps"])[len(runs) // 2]


def run(bench: Bench) -> dict:
    args = bench.args
    figures: dict = {}
    rows: list[tuple[str, str]] = []
    sandbox = bench.start_sandbox()
    bench.cookie = f"sessionid={bench.prepare()}"
    a, master_a = bench.start_dashboard(args.workers)
    # Instance B: a second dashboard sharing Redis, with 2 workers; the coalescing across
    # processes is measured on it, and across instances on A and B together.
    b, master_b = bench.start_dashboard(2)
    duration, conc = args.duration, args.concurrency

    # Warm up: imports, templates, connection pools, the org's client in every worker.
    bench.load(
        [f"{a}/bench/hello", page(a, SEED), proxy(a, SEED)], conc, mode="duration", duration=1
    )
    probe = bench.load([proxy(a, SEED)], 1, mode="once")
    if probe["statuses"] != {"200": 1}:
        raise SystemExit(f"the one-call view answered {probe['statuses']}, not 200: see the logs")

    tab_url = f"{a}/customers/{SEED}/tabs/cards/?source=INSTORE"
    probe = bench.load([tab_url], 1, mode="once", headers={"HX-Request": "true"})
    if probe["statuses"] != {"200": 1}:
        bench.notes.append(f"tab URL answered {probe['statuses']}: measured the page instead")
        tab_url = page(a, SEED)
    # The reference and the two hit runs take turns, `rounds` times, and each figure is the
    # median of its runs: a shared VM's noise then hits all three alike.
    runs: dict[str, list[dict]] = {"hello": [], "page": [], "tab": []}
    for _ in range(args.rounds):
        runs["hello"].append(
            bench.load([f"{a}/bench/hello"], conc, mode="duration", duration=duration)
        )
        runs["page"].append(bench.load([page(a, SEED)], conc, mode="duration", duration=duration))
        runs["tab"].append(
            bench.load(
                [tab_url], conc, mode="duration", duration=duration, headers={"HX-Request": "true"}
            )
        )
    hello, hit, tab = (median_run(runs[name]) for name in ("hello", "page", "tab"))
    if set(hit["statuses"]) != {"200"}:
        raise SystemExit(f"the cached page answered {hit['statuses']}, not 200: see the logs")
    figures["hello_rps"] = hello["rps"]
    rows.append(
        ("hello (plain Django view)", f"{hello['rps']} req/s, p50 {hello['p50_ms']:.1f} ms")
    )
    page_kb = round(hit["avg_bytes"] / 1024, 1)
    if page_kb < 10:
        bench.notes.append(
            f"the cached page is {page_kb} KB of HTML, under the 10 KB the issue expects: "
            "that is the whole header and default tab of the documented customer, unpadded"
        )
    figures.update(
        hit_page_rps=hit["rps"],
        hit_page_kb=page_kb,
        hit_page_p50_ms=round(hit["p50_ms"], 1),
        hit_page_p99_ms=round(hit["p99_ms"], 1),
        hit_page_ratio=round(hit["rps"] / hello["rps"], 3),
    )
    rows.append(
        (
            "cached customer page",
            f"{hit['rps']} req/s, p50 {hit['p50_ms']:.1f} ms, p99 {hit['p99_ms']:.1f} ms, "
            f"{hit['avg_bytes'] / 1024:.1f} KB, statuses {hit['statuses']}",
        )
    )
    figures.update(hit_tab_rps=tab["rps"], hit_tab_ratio=round(tab["rps"] / hello["rps"], 3))
    rows.append(
        (
            "cached tab fragment (htmx)",
            f"{tab['rps']} req/s, p50 {tab['p50_ms']:.1f} ms, {tab['avg_bytes'] / 1024:.1f} KB",
        )
    )

    direct = [f"{bench.sandbox}/v2/customers/{c}?source=INSTORE" for c in customers(100_003_000, 8)]
    upstream = bench.load(direct, 1, mode="once", headers={"Authorization": DEMO_BASIC})
    figures["upstream_p50_ms"] = round(upstream["p50_ms"], 1)
    rows.append(("sandbox alone (direct call)", f"p50 {upstream['p50_ms']:.1f} ms"))

    # The floor, then the cold page, each at one agent and at 64, on customers no other run
    # asks for: the bare view makes the one call a cold page's first paint needs.
    floor1 = bench.load([proxy(a, c) for c in customers(100_004_000, 16)], 1, mode="once")
    cold = customers(100_000_100, 16)
    bench.sandbox_control("reset")
    miss = bench.load([page(a, c) for c in cold], 1, mode="once")
    calls_per_page = calc.calls_per(bench.customer_calls(c) for c in cold) or 0.0
    many = customers(100_005_000, 64 * args.miss_rounds)
    floor64 = bench.load([proxy(a, c) for c in many], 64, mode="once")
    many = customers(100_001_000, 64 * args.miss_rounds)
    miss64 = bench.load([page(a, c) for c in many], 64, mode="once")
    figures.update(
        proxy_rps_64=floor64["rps"],
        proxy_p50_ms=round(floor1["p50_ms"], 1),
        miss_overhead_p50_ms=calc.overhead_ms(miss["p50_ms"], floor1["p50_ms"]),
        miss_rps_64=miss64["rps"],
        miss_efficiency=calc.miss_efficiency(miss64["rps"], floor64["rps"]),
        miss_efficiency_ideal=calc.miss_efficiency_ideal(miss64["rps"], 64, args.latency_ms),
        calls_per_cold_page=calls_per_page,
    )
    rows += [
        ("one-call view (the floor), one agent", f"p50 {floor1['p50_ms']:.1f} ms"),
        (
            "cold page, one agent",
            f"p50 {miss['p50_ms']:.1f} ms, {figures['miss_overhead_p50_ms']} ms over the floor "
            f"({calls_per_page:g} upstream calls a page, {args.latency_ms} ms each)",
        ),
        (
            "one-call view, 64 agents",
            f"{floor64['rps']} req/s, p50 {floor64['p50_ms']:.1f} ms, "
            f"statuses {floor64['statuses']}",
        ),
        (
            "64 agents, distinct cold customers",
            f"{miss64['rps']} req/s, p50 {miss64['p50_ms']:.1f} ms, statuses {miss64['statuses']}",
        ),
    ]

    if bench.redis:
        for name, customer, urls in (
            ("processes", 100_002_000, [page(b, 100_002_000)] * 100),
            ("instances", 100_002_100, [page(a, 100_002_100), page(b, 100_002_100)] * 50),
        ):
            bench.sandbox_control("reset")
            burst = bench.load(urls, 100, mode="once")
            # That customer's calls only: a background refresh of another customer's stale
            # copy, left from an earlier phase, is not this burst's.
            per_part = bench.customer_calls(customer) / (calls_per_page or 1)
            figures[f"coalesce_calls_{name}"] = round(per_part, 2)
            rows.append(
                (
                    f"100 requests, one cold customer, 2 {name}",
                    f"{per_part:.2f} upstream calls per part, statuses {burst['statuses']}",
                )
            )
    else:
        figures["coalesce_calls_processes"] = figures["coalesce_calls_instances"] = None

    walk_calls, walk_row = full_walk(bench, a, customers(100_006_000, 1)[0])
    figures["calls_per_full_walk"] = walk_calls
    rows.append(("one agent: cold page, every tab, page again", walk_row))
    figures["breaker_isolation"], isolation_row = isolation(bench)
    rows.append(("5% of customers failing, 2 processes", isolation_row))

    # Instance C, started now: its copies go stale after 1 s. A customer only C has fetched
    # has a copy that is C's (a copy A or B fetched would still be fresh for 60 s and
    # measure a plain hit); then the sandbox stops.
    c, master_c = bench.start_dashboard(1, CACHE_FRESH_SECONDS="1", CACHE_STALE_SECONDS="900")
    stale_id = customers(100_003_500, 1)[0]
    bench.load([page(c, stale_id)], 1, mode="once")
    time.sleep(1.5)
    sandbox.terminate()
    sandbox.wait(10)
    stale = bench.load([page(c, stale_id)] * 100, 1, mode="once")
    figures["stale_p50_ms"] = round(stale["p50_ms"], 1)
    banner = "showing data from" in bench.fetch_text(page(c, stale_id))
    if not banner:
        bench.notes.append("the stale page did not show its stale banner: see the logs")
    rows.append(
        (
            "stale copy, sandbox stopped",
            f"p50 {stale['p50_ms']:.1f} ms, {stale['statuses']}, banner shown: {banner}",
        )
    )

    figures["rss_mb_per_worker"] = max(peak_rss_mb(m.pid) for m in (master_a, master_b, master_c))
    rows.append(("peak RSS of a worker", f"{figures['rss_mb_per_worker']} MB"))
    return {"figures": figures, "rows": rows}


def full_walk(bench: Bench, base: str, cid: int) -> tuple[int, str]:
    """Open a cold customer, click every tab (htmx fragments), open the page again.

    Return the upstream calls made for the customer and a row describing the walk. The
    tab URLs are read from the page, as the browser reads them.
    """
    status, html = bench.fetch(page(base, cid))
    statuses = [status]
    urls = calc.tab_urls(html, base)
    if not urls:
        bench.notes.append("the cold page had no tab links: the walk opened the page twice")
    fragment = {"HX-Request": "true", "HX-Target": "tabpanel", "HX-Current-URL": page(base, cid)}
    statuses += [bench.fetch(url, fragment)[0] for url in urls]
    statuses.append(bench.fetch(page(base, cid))[0])
    calls = bench.customer_calls(cid)
    shown = ", ".join(f"{code}x{statuses.count(code)}" for code in sorted(set(statuses)))
    return calls, f"{calls} upstream calls for page + {len(urls)} tabs + page; statuses {shown}"


RETRIES = 2  # how often an agent presses Retry on an error page before giving up


def isolation(bench: Bench) -> tuple[float | None, str]:
    """Return the share of healthy lookups answered normally while 5% of customers fail.

    Instance D (2 workers) keeps its own cache prefix, so its breaker and rate-limit state
    are its own: however it ends, the other instances' figures are not touched. Every
    customer is looked up once, the failing ones spread evenly through the run, and an
    agent shown an error presses Retry, twice at most, as people do; a healthy lookup is
    judged by its first answer.
    """
    args = bench.args
    d, master_d = bench.start_dashboard(2, CACHE_KEY_PREFIX=f"{bench.prefix}-isolation")
    bench.load([f"{d}/bench/hello", page(d, SEED)], 2, mode="once")
    ids = customers(100_007_000, args.isolation_customers)
    plan = calc.fault_plan(ids)
    for cid, fault in plan.items():
        bench.set_fault(cid, fault)
    urls = [page(d, c) for c in ids]
    done = bench.load(urls, args.concurrency, mode="once", mark=calc.DEGRADED_MARK, retries=RETRIES)
    bench.sandbox_control("reset")  # the faults go; the later runs need a healthy sandbox
    master_d.terminate()
    healthy = [page(d, c) for c in ids if c not in plan]
    share = calc.breaker_isolation(done["outcomes"], healthy)
    normal = round((share or 0) * len(healthy))
    row = (
        f"{normal} of {len(healthy)} healthy lookups answered normally; {len(plan)} customers "
        f"failing ({', '.join(calc.ISOLATION_FAULTS)}), retried {RETRIES} times; "
        f"statuses {done['statuses']}"
    )
    return share, row


def peak_rss_mb(master: int) -> float:
    """Return the largest peak resident memory (VmHWM) among a gunicorn master's workers."""
    peaks = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master):
            peaks.append(int(fields["VmHWM"].split()[0]) / 1024)
    return round(max(peaks), 1) if peaks else 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--latency-ms", type=int, default=200, help="sandbox's fixed latency")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers (instance A)")
    parser.add_argument("--threads", type=int, default=16, help="gunicorn threads a worker")
    parser.add_argument(
        "--concurrency", type=int, default=16, help="agents for the hit and isolation runs"
    )
    parser.add_argument("--duration", type=float, default=3.0, help="seconds of each hit run")
    parser.add_argument("--rounds", type=int, default=3, help="turns of hello, page and tab runs")
    parser.add_argument("--miss-rounds", type=int, default=4, help="cold pages per agent (x64)")
    parser.add_argument(
        "--isolation-customers",
        type=int,
        default=200,
        help="customers looked up in the breaker isolation run (5%% of them failing)",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13")
    args = parser.parse_args(argv)
    bench = Bench(args)
    bench.cookie = ""
    started = time.monotonic()
    try:
        result = run(bench)
    finally:
        bench.stop()
    print(f"Customer Lookup benchmark ({os.cpu_count()} CPUs, {time.monotonic() - started:.0f} s)")
    print(
        f"gunicorn gthread -w {args.workers} --threads {args.threads} (instance B: -w 2, D: -w 2, C: -w 1); "
        "sandbox latency "
        f"{args.latency_ms} ms; {args.concurrency} agents, {args.rounds} turns of {args.duration:.0f} s a hit run (medians)"
    )
    width = max(len(name) for name, _ in result["rows"])
    for name, value in result["rows"]:
        print(f"  {name.ljust(width)}  {value}")
    for note in bench.notes:
        print(f"  note: {note}")
    verdicts = calc.verdicts(result["figures"])
    width = max(len(name) for name, *_ in verdicts)
    print("Targets")
    for name, value, target, verdict in verdicts:
        shown = "-" if value is None else f"{value:g}"
        print(f"  {name.ljust(width)}  {shown:>8}  {target:<12}  {verdict}")
    print(json.dumps(result["figures"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
