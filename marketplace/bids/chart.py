"""Geometry of the bid comparison's scatter chart (total price against turnaround), drawn as inline SVG.

Pure arithmetic: the template draws what this returns. Both axes start at zero so that distances compare
honestly.
"""

from dataclasses import dataclass

from marketplace.money import format_money

WIDTH, HEIGHT = 560, 300
LEFT, RIGHT, TOP, BOTTOM = 84, 24, 22, 44
TICKS = 4


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Dot:
    cx: float
    cy: float
    label: str
    detail: str
    # Labels on the right half go to the left of their dot, so they stay inside the chart.
    anchor: str
    # Where the label's baseline sits, moved off other labels when dots are close.
    label_y: float = 0.0


@dataclass(frozen=True)
class Scatter:
    dots: list[Dot]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    right_edge: int = WIDTH - RIGHT
    bottom_edge: int = HEIGHT - BOTTOM


@dataclass(frozen=True)
class Point:
    turnaround_days: int
    total_minor: int
    label: str


def nice_step(largest: int, ticks: int = TICKS) -> int:
    """A round step (1, 2 or 5 times a power of ten) so that `ticks` steps reach at least `largest`."""
    raw = max(largest, 1) / ticks
    magnitude = 1
    while magnitude * 10 <= raw:
        magnitude *= 10
    for multiple in (1, 2, 5, 10):
        if multiple * magnitude >= raw:
            return multiple * magnitude
    return 10 * magnitude


def scatter(points: list[Point], currency: str) -> Scatter:
    """Place one labelled dot per point: x = turnaround days, y = total price."""
    x_step = nice_step(max((p.turnaround_days for p in points), default=1))
    y_step = nice_step(max((p.total_minor for p in points), default=1))
    x_max, y_max = x_step * TICKS, y_step * TICKS
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x_of(days: int) -> float:
        return round(LEFT + plot_width * days / x_max, 1)

    def y_of(minor: int) -> float:
        return round(HEIGHT - BOTTOM - plot_height * minor / y_max, 1)

    dots = [
        Dot(
            x_of(p.turnaround_days),
            y_of(p.total_minor),
            p.label,
            f"{p.label}: {format_money(p.total_minor, currency)}, {p.turnaround_days} days",
            "end" if x_of(p.turnaround_days) > LEFT + plot_width / 2 else "start",
        )
        for p in points
    ]
    dots = _spread_labels(dots)
    x_ticks = [Tick(x_of(i * x_step), str(i * x_step)) for i in range(TICKS + 1)]
    y_ticks = [Tick(y_of(i * y_step), format_money(i * y_step, currency)) for i in range(TICKS + 1)]
    return Scatter(dots, x_ticks, y_ticks)


CHAR_WIDTH, LINE_HEIGHT = 6.5, 13


def _label_box(dot: Dot, baseline: float) -> tuple[float, float, float, float]:
    width = CHAR_WIDTH * len(dot.label)
    left = dot.cx + 8 if dot.anchor == "start" else dot.cx - 8 - width
    return left, baseline - LINE_HEIGHT + 2, left + width, baseline + 2


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _spread_labels(dots: list[Dot]) -> list[Dot]:
    """Give each label the first spot above or below its dot that no earlier label occupies."""
    placed: list[tuple[float, float, float, float]] = []
    result = []
    for dot in dots:
        candidates = [dot.cy - 7 - step * LINE_HEIGHT for step in range(4)]
        candidates += [dot.cy + 16 + step * LINE_HEIGHT for step in range(4)]
        candidates.sort(key=lambda y: abs(y - (dot.cy - 7)))
        baseline = next(
            (
                y
                for y in candidates
                if y - LINE_HEIGHT >= TOP
                and y <= HEIGHT - BOTTOM
                and not any(_overlaps(_label_box(dot, y), box) for box in placed)
            ),
            dot.cy - 7,
        )
        placed.append(_label_box(dot, baseline))
        result.append(Dot(dot.cx, dot.cy, dot.label, dot.detail, dot.anchor, baseline))
    return result
