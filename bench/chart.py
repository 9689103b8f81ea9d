"""Draw the benchmark's figures as one SVG chart: ours beside the naive way and the target, per measure and database.

    python bench/chart.py bench/results/sqlite-groups-100k.json bench/results/postgresql-groups-100k.json \
        --out docs/benchmark.svg

Each bar is its figure divided by the measure's target, on a logarithmic scale (the naive way is up to thousands of
times slower), so the targets line up: left of the dashed line is within the target. Each bar is labelled with its
figure. No plotting library: the SVG is written directly, so the chart needs nothing the app does not.
"""

import json
import math
from pathlib import Path
from xml.sax.saxutils import escape

import click

MEASURES = [
    (
        "a",
        "Screen all 10,000 vendors",
        lambda d: d["a"]["total_s"],
        lambda d: d["a_naive"]["extrapolated_total_s"],
        2.0,
        "s",
    ),
    ("b", "Vendor-search page, p95", lambda d: d["b"]["p95_ms"], lambda d: d["b_naive"]["p95_ms"], 100.0, "ms"),
    (
        "c",
        "Re-screen after one change",
        lambda d: d["c"]["median_ms"],
        lambda d: d["c_naive"]["median_ms"],
        200.0,
        "ms",
    ),
]
WIDTH, LEFT, BAR, GAP = 860, 300, 16, 6
COLOURS = {"ours": "#2f6f4f", "naive": "#b5651d"}


def _figure(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:,.2f} s" if value < 10 else f"{value:,.0f} s"
    return f"{value:,.1f} ms" if value < 1000 else f"{value / 1000:,.0f} s"


def draw(results: list[dict]) -> str:
    rows = []  # (label, value, unit, kind, target)
    for key, title, ours, naive, target, unit in MEASURES:
        for data in results:
            database = "SQLite" if data["dialect"] == "sqlite" else "PostgreSQL"
            rows.append((f"{title} — {database}", ours(data), naive(data), target, unit, key))
    ratios = [v / target for _, ours, naive, target, _, _ in rows for v in (ours, naive)] + [1.0]
    low, high = math.log10(min(ratios) / 2), math.log10(max(ratios) * 2)

    def x(ratio: float) -> float:
        return LEFT + (math.log10(ratio) - low) / (high - low) * (WIDTH - LEFT - 110)

    height = 60 + len(rows) * (2 * BAR + GAP + 22)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="13">',
        '<rect width="100%" height="100%" fill="white"/>',
        '<text x="10" y="22" font-size="15" font-weight="bold">Screening benchmark: 100,000 parties, '
        "300,000 interests, 10,000 vendors, 5 rivals (log scale, ÷ target)</text>",
    ]
    legend_x = 10
    for name, label in (("ours", "this design"), ("naive", "the obvious way (simple paths, a query per node)")):
        out.append(f'<rect x="{legend_x}" y="32" width="12" height="12" fill="{COLOURS[name]}"/>')
        out.append(f'<text x="{legend_x + 16}" y="43">{escape(label)}</text>')
        legend_x += 120 if name == "ours" else 0
    out.append(
        f'<line x1="{legend_x + 360}" y1="32" x2="{legend_x + 360}" y2="44" stroke="black" stroke-dasharray="3,2"/>'
    )
    out.append(f'<text x="{legend_x + 366}" y="43">target</text>')
    out.append(
        f'<line x1="{x(1.0):.1f}" y1="52" x2="{x(1.0):.1f}" y2="{height - 10}" stroke="black" stroke-dasharray="3,2"/>'
    )
    y = 60
    for label, ours, naive, target, unit, _ in rows:
        out.append(f'<text x="10" y="{y + BAR + 4}">{escape(label)}</text>')
        for offset, (name, value) in enumerate((("ours", ours), ("naive", naive))):
            top = y + offset * (BAR + 2)
            end = x(value / target)
            out.append(
                f'<rect x="{LEFT}" y="{top}" width="{max(1.0, end - LEFT):.1f}" height="{BAR}" '
                f'fill="{COLOURS[name]}"><title>{escape(name)}: {escape(_figure(value, unit))}</title></rect>'
            )
            out.append(f'<text x="{end + 4:.1f}" y="{top + BAR - 3}">{escape(_figure(value, unit))}</text>')
        out.append(
            f'<text x="10" y="{y + BAR + 19}" fill="#555" font-size="12">target {escape(_figure(target, unit))}</text>'
        )
        y += 2 * BAR + GAP + 22
    out.append("</svg>")
    return "\n".join(out) + "\n"


@click.command()
@click.argument("results", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", default="docs/benchmark.svg", show_default=True, type=click.Path(dir_okay=False))
def main(results: tuple[str, ...], out: str) -> None:
    """Write the chart of the given bench/run.py result files."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(draw([json.loads(Path(path).read_text()) for path in results]))
    click.echo(f"wrote {out}")


if __name__ == "__main__":
    main()
