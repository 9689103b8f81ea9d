"""The comparison chart's geometry."""

import pytest

from marketplace.bids.chart import HEIGHT, LEFT, Point, nice_step, scatter


@pytest.mark.parametrize(
    ("largest", "step"), [(0, 1), (4, 1), (7, 2), (21, 10), (30, 10), (450_000, 200_000), (1_000_001, 500_000)]
)
def test_steps_are_round_and_reach_the_largest_value(largest, step):
    assert nice_step(largest) == step
    assert step * 4 >= largest


def test_one_labelled_dot_per_bid_inside_the_plot():
    chart = scatter([Point(10, 400_000, "Scalewise"), Point(20, 800_000, "Tagly")], "USD")

    first, second = chart.dots
    assert (first.label, second.label) == ("Scalewise", "Tagly")
    assert first.detail == "Scalewise: $4,000.00, 10 days"
    assert LEFT < first.cx < second.cx <= chart.right_edge
    assert chart.top <= second.cy < first.cy < HEIGHT
    assert [t.label for t in chart.x_ticks] == ["0", "5", "10", "15", "20"]
    assert chart.y_ticks[-1].label == "$8,000.00"


def test_labels_of_close_dots_do_not_overlap():
    from marketplace.bids.chart import Point, _label_box, _overlaps, scatter

    chart = scatter(
        [
            Point(28, 4_320_000, "Tessellate Labs"),
            Point(30, 4_080_000, "ClearLabel Studio"),
            Point(29, 4_200_000, "Quickmark Crowd"),
        ],
        "USD",
    )
    boxes = [_label_box(dot, dot.label_y) for dot in chart.dots]
    assert not any(_overlaps(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
