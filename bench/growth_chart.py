"""Draw how screening grows with the register: 10k, 100k and 1M parties, ours beside the naive way, as one SVG.

    python bench/growth_chart.py bench/results/postgresql-growth-10k.json bench/results/postgresql-growth-100k.json \
        bench/results/postgresql-growth-1m.json --out docs/screening-growth.svg

Three panels, each on logarithmic axes (parties across, the figure up): (a) screening every vendor for one buyer,
(c) the re-screen after one change (p95), and the peak memory of (a). Beside ours: the naive way (bench/naive.py,
sampled under a time limit and extrapolated, as bench/run.py reports it) where it has a figure, and the figures
issue 13 measured before this work. Issue 13's targets at 1M are marked. No plotting library, as bench/chart.py.
"""

import json
import math
from pathlib import Path
from xml.sax.saxutils import escape

import click

# Issue 13's table, measured before this work on PostgreSQL (1M: the middle of 12-30 s; memory of (a)).
BEFORE = {
    "a": {10_000: 0.16, 100_000: 0.73, 1_000_000: 21.0},
    "d": {10_000: 191.0, 100_000: 302.0, 1_000_000: 8.2 * 1024},
}
TARGETS = {"a": 5.0, "c": 50.0, "d": 1536.0}
PANELS = [
    (
        "a",
        "Screen all vendors for one buyer",
        "s",
        lambda d: d["a"]["total_s"],
        lambda d: d["a_naive"]["extrapolated_total_s"],
    ),
    ("c", "Re-screen after one change, p95", "ms", lambda d: d["c"]["p95_ms"], lambda d: d["c_naive"]["max_ms"]),
    ("d", "Peak memory of screening all", "MiB", lambda d: d["a"]["peak_rss_mib"], None),
]
SERIES = {"ours": ("#2f6f4f", "ours"), "naive": ("#b5651d", "naive (extrapolated)"), "before": ("#888888", "before")}
PANEL_W, PANEL_H, MARGIN = 300, 230, 60


def _label(value: float, unit: str) -> str:
    if unit == "MiB":
        return f"{value / 1024:.1f} GiB" if value >= 1024 else f"{value:.0f} MiB"
    if unit == "ms":
        return f"{value / 1000:.1f} s" if value >= 1000 else f"{value:.0f} ms"
    return f"{value:,.0f} s" if value >= 100 else f"{value:.2f} s"


def draw(results: list[dict]) -> str:
    results = sorted(results, key=lambda d: d["rows"]["parties"])
    sizes = [d["rows"]["parties"] for d in results]
    width = MARGIN + len(PANELS) * (PANEL_W + MARGIN) + 20
    height = PANEL_H + 130
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" '
        'font-size="11">',
        f'<text x="{MARGIN}" y="20" font-size="14">Screening as the register grows (PostgreSQL; parties across, '
        "vendors one in ten; log scales)</text>",
    ]
    for index, (key, title, unit, ours, naive) in enumerate(PANELS):
        series = {"ours": {n: ours(d) for n, d in zip(sizes, results, strict=True)}}
        if naive is not None:
            series["naive"] = {n: naive(d) for n, d in zip(sizes, results, strict=True)}
        if key in BEFORE:
            series["before"] = BEFORE[key]
        values = [v for points in series.values() for v in points.values()] + [TARGETS[key]]
        low, high = math.log10(min(values) / 2), math.log10(max(values) * 2)
        left, top = MARGIN + index * (PANEL_W + MARGIN), 50

        def x(parties: float, left: float = left) -> float:
            return left + (math.log10(parties) - 4) / 2 * PANEL_W

        def y(value: float, top: float = top, low: float = low, high: float = high) -> float:
            return top + PANEL_H - (math.log10(value) - low) / (high - low) * PANEL_H

        out.append(f'<text x="{left}" y="{top - 10}" font-size="12">{escape(title)}</text>')
        out.append(f'<rect x="{left}" y="{top}" width="{PANEL_W}" height="{PANEL_H}" fill="none" stroke="#ccc"/>')
        for parties, name in ((10_000, "10k"), (100_000, "100k"), (1_000_000, "1M")):
            out.append(f'<text x="{x(parties):.1f}" y="{top + PANEL_H + 14}" text-anchor="middle">{name}</text>')
        target_y = y(TARGETS[key])
        out.append(
            f'<line x1="{left}" x2="{left + PANEL_W}" y1="{target_y:.1f}" y2="{target_y:.1f}" stroke="#c33" '
            'stroke-dasharray="4 3"/>'
        )
        out.append(
            f'<text x="{left + 4}" y="{target_y + 12:.1f}" fill="#c33">'
            f"target at 1M: {_label(TARGETS[key], unit)}</text>"
        )
        for name, points in series.items():
            colour = SERIES[name][0]
            ordered = sorted(points.items())
            path = " ".join(f"{x(n):.1f},{y(v):.1f}" for n, v in ordered)
            dash = ' stroke-dasharray="2 2"' if name == "before" else ""
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
            for n, v in ordered:
                out.append(f'<circle cx="{x(n):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>')
                # The last point's label to its left, inside the panel; "before" below its line, the rest above.
                anchor, dx = ("end", -6) if n == ordered[-1][0] else ("start", 6)
                dy = 14 if name == "before" else -5
                out.append(
                    f'<text x="{x(n) + dx:.1f}" y="{y(v) + dy:.1f}" text-anchor="{anchor}" fill="{colour}">'
                    f"{escape(_label(v, unit))}</text>"
                )
    legend_y = PANEL_H + 100
    for position, (colour, label) in enumerate(SERIES.values()):
        lx = MARGIN + position * 200
        out.append(f'<rect x="{lx}" y="{legend_y - 9}" width="12" height="10" fill="{colour}"/>')
        out.append(f'<text x="{lx + 16}" y="{legend_y}">{escape(label)}</text>')
    out.append(
        f'<text x="{MARGIN}" y="{legend_y + 20}" fill="#555">naive (c) is its slowest re-screen; '
        "before: issue 13's table (1M: 12-30 s, plotted at 21 s)</text>"
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


@click.command()
@click.argument("results", nargs=-1, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False))
def main(results: tuple[str, ...], out_path: str) -> None:
    """Draw the growth curve from bench/run.py JSON files (one per register size)."""
    Path(out_path).write_text(draw([json.loads(Path(r).read_text()) for r in results]))


if __name__ == "__main__":
    main()
