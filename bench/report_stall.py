#!/usr/bin/env python3
"""Markdown tables from `ckpt-bench stall --json` output (stdin or a file):
one table per THP setting, a row per (protected size, dirty %), p50 (p99) stall_ms per
method, then the target ratios with PASS/MISS."""
import json
import sys


def main():
    src = open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin
    rows = [json.loads(l) for l in src if l.strip().startswith("{")]
    stall = [r for r in rows if r.get("metric") == "stall_ms"]
    methods = []
    for r in stall:
        if r["method"] not in methods:
            methods.append(r["method"])
    for thp in (False, True):
        pts = {}
        for r in stall:
            p = r["params"]
            if p.get("thp") != thp:
                continue
            pts.setdefault((p["protected_mib"], p["dirty_pct"]), {})[r["method"]] = r
        if not pts:
            continue
        print(f"\nTHP {'on' if thp else 'off'}: stall_ms p50 (p99)\n")
        print("| protected MiB | dirty % | " + " | ".join(methods) + " |")
        print("|---|---|" + "---|" * len(methods))
        for (mib, pct) in sorted(pts):
            cells = []
            for m in methods:
                r = pts[(mib, pct)].get(m)
                cells.append(f"{r['p50']:.2f} ({r['p99']:.2f})" if r else "—")
            print(f"| {mib} | {pct} | " + " | ".join(cells) + " |")
    print("\n| target | params | measured | target | verdict |")
    print("|---|---|---|---|---|")
    for r in rows:
        if "target" not in r or r.get("scenario") != "stall":
            continue
        p = r["params"]
        print(f"| {r['metric']} | {p['protected_mib']} MiB, {p['dirty_pct']} %, THP "
              f"{'on' if p.get('thp') else 'off'} | {r['value']} | ≤ {r['target']} | "
              f"{'PASS' if r['pass'] else 'MISS'} |")


main()
