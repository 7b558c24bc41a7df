#!/usr/bin/python3
"""Plot the `stall` scenario of ckpt-bench: stall (log scale) against dirty fraction.

    build/bin/ckpt-bench stall --json > stall.jsonl
    bench/plot_stall.py stall.jsonl -o docs/stall.png        # or: ... | bench/plot_stall.py -

Reads JSON Lines (other scenarios and metrics are ignored), draws one panel per protected
size with one line per method: the p50 stall as a solid line, the p99 as a shaded band
up to it. THP off by default (--thp on for the huge-page runs). Needs matplotlib
(Debian: apt-get install python3-matplotlib; hence /usr/bin/python3,
not a pyenv or venv python without it).
"""
import argparse
import json
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

STYLE = {  # method -> (colour, marker); baselines dashed
    "ckpt-auto": ("tab:red", "o"),
    "ckpt-stop-and-copy": ("tab:orange", "s"),
    "ckpt-fork": ("tab:purple", "^"),
    "ckpt-cow": ("tab:olive", "P"),
    "ckpt-sync": ("tab:brown", "v"),
    "fork": ("tab:blue", "D"),
    "memcpy": ("tab:green", "x"),
}


def read_points(stream, thp):
    # points[protected_mib][method] = [(dirty_pct, p50, p99), ...]
    points = defaultdict(lambda: defaultdict(list))
    for line in stream:
        line = line.strip()
        if not line.startswith("{"):
            continue
        row = json.loads(line)
        if row.get("scenario") != "stall" or row.get("metric") != "stall_ms":
            continue
        params = row["params"]
        if bool(params.get("thp")) != thp:
            continue
        points[params["protected_mib"]][row["method"]].append(
            (params["dirty_pct"], row["p50"], row["p99"]))
    return points


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", nargs="?", default="-", help="JSON Lines file, '-' for stdin")
    ap.add_argument("-o", "--output", default="stall.png", help="PNG to write")
    ap.add_argument("--thp", choices=["on", "off"], default="off")
    ap.add_argument("--title", default=None)
    args = ap.parse_args()

    src = sys.stdin if args.input == "-" else open(args.input, encoding="utf-8")
    points = read_points(src, args.thp == "on")
    if not points:
        sys.exit(f"plot_stall.py: no stall_ms lines with THP {args.thp} in {args.input}")

    sizes = sorted(points)
    fig, axes = plt.subplots(1, len(sizes), figsize=(4.6 * len(sizes), 4.2), sharey=True,
                             squeeze=False)
    for ax, mib in zip(axes[0], sizes):
        for method in sorted(points[mib], key=lambda m: (not m.startswith("ckpt"), m)):
            pts = sorted(points[mib][method])
            xs = [p[0] for p in pts]
            p50 = [p[1] for p in pts]
            p99 = [p[2] for p in pts]
            colour, marker = STYLE.get(method, (None, "."))
            dashed = not method.startswith("ckpt")
            ax.plot(xs, p50, marker=marker, color=colour, linestyle="--" if dashed else "-",
                    label=method)
            ax.fill_between(xs, p50, p99, color=colour, alpha=0.15, linewidth=0)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ticks = sorted({p[0] for pts in points[mib].values() for p in pts})
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{t:g}" for t in ticks])
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("dirty pages (% of protected, random 4 KiB)")
        label = f"{mib // 1024} GiB" if mib >= 1024 else f"{mib} MiB"
        ax.set_title(f"protected {label}, THP {args.thp}")
        ax.grid(True, which="both", alpha=0.3)
    axes[0][0].set_ylabel("stall (ms): p50 line, band up to p99")
    handles = {}  # every method once, also those missing from the last panel
    for ax in axes[0]:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    axes[0][-1].legend(handles.values(), handles.keys(), fontsize=8, loc="lower right")
    if args.title:
        fig.suptitle(args.title)
    fig.tight_layout()
    fig.savefig(args.output, dpi=110)
    print(f"plot_stall.py: wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
