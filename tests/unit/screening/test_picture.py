"""The ownership picture's layout: pure arithmetic from parties, ties and routes to positions and paths."""

import itertools
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.screening.store.picture import MAX_NODES, PER_ROW, Link, Node, layout

VENDOR = 1


def overlaps(a, b) -> bool:
    return not (a.x + a.width <= b.x or b.x + b.width <= a.x or a.y + a.height <= b.y or b.y + b.height <= a.y)


def assert_drawable(picture):
    """Every node inside the canvas and no two nodes overlapping."""
    for node in picture.nodes:
        assert node.x >= 0 and node.x + node.width <= picture.width, node
        assert node.y >= 0 and node.y + node.height <= picture.height, node
    for a, b in itertools.combinations(picture.nodes, 2):
        assert not overlaps(a, b), (a, b)


def placed(picture):
    return {node.id: node for node in picture.nodes}


def chain_example():
    """Cobalt holds 60% of Holdco, which holds 49% of the vendor; a founder sits on both boards."""
    nodes = [
        Node(VENDOR, "Scalewise Data", role="vendor"),
        Node(2, "Holdco Ltd"),
        Node(3, "Cobalt Social", role="rival"),
        Node(4, "Ana Founder", kind="person"),
        Node(5, "Unknown owner", kind="unspecified", unknown=True),
    ]
    links = [
        Link(2, VENDOR, "shares 49%"),
        Link(3, 2, "shares 60%"),
        Link(3, 2, "votes 30–50%"),
        Link(4, VENDOR, "board member"),
        Link(4, 3, "former senior officer", ended=True),
        Link(5, VENDOR, "shares ≤20%"),
    ]
    return nodes, links


def test_the_vendor_sits_at_the_bottom_and_owners_above_by_distance():
    nodes, links = chain_example()
    picture = layout(nodes, links, VENDOR, routes=[[3, 2, VENDOR]])
    at = placed(picture)
    assert_drawable(picture)
    assert at[VENDOR].cy == max(node.cy for node in picture.nodes)
    assert at[2].cy < at[VENDOR].cy and at[5].cy == at[2].cy == at[4].cy
    assert at[3].cy < at[2].cy


def test_shapes_and_classes_say_what_each_party_is():
    nodes, links = chain_example()
    at = placed(layout(nodes, links, VENDOR))
    assert at[VENDOR].shape == "box" and "vendor" in at[VENDOR].classes
    assert at[3].shape == "box" and "rival" in at[3].classes
    assert at[4].shape == "ellipse" and "person" in at[4].classes
    assert "unknown" in at[5].classes


def test_routes_are_highlighted_and_other_arrows_are_not():
    nodes, links = chain_example()
    picture = layout(nodes, links, VENDOR, routes=[[3, 2, VENDOR]])
    highlighted = {(e.holder, e.subject) for e in picture.edges if e.highlighted}
    assert highlighted == {(3, 2), (2, VENDOR)}
    for edge in picture.edges:
        assert ("route" in edge.classes.split()) == edge.highlighted
    assert "on-route" in placed(picture)[3].classes and "on-route" not in placed(picture)[4].classes


def test_a_person_route_highlights_both_of_the_persons_roles():
    nodes, links = chain_example()
    picture = layout(nodes, links, VENDOR, routes=[[3, 4, VENDOR]])
    assert {(e.holder, e.subject) for e in picture.edges if e.highlighted} == {(4, 3), (4, VENDOR)}
    ended = [e for e in picture.edges if (e.holder, e.subject) == (4, 3)]
    assert "ended" in ended[0].classes


def test_labels_carry_the_type_and_share_and_ties_between_two_parties_share_one_arrow():
    nodes, links = chain_example()
    picture = layout(nodes, links, VENDOR)
    edges = {(e.holder, e.subject): e for e in picture.edges}
    assert len(picture.edges) == 5
    assert edges[(3, 2)].lines == ["shares 60%", "votes 30–50%"]
    assert edges[(2, VENDOR)].lines == ["shares 49%"]
    assert "Cobalt Social → Holdco Ltd" in edges[(3, 2)].title
    assert {node.label for node in picture.nodes} >= {"Scalewise Data", "Cobalt Social", "Ana Founder"}


def test_arrows_start_and_end_on_the_outlines_not_inside_the_boxes():
    nodes, links = chain_example()
    picture = layout(nodes, links, VENDOR)
    at = placed(picture)
    edge = next(e for e in picture.edges if (e.holder, e.subject) == (2, VENDOR))
    x1, y1, x2, y2 = map(float, re.findall(r"-?\d+(?:\.\d+)?", edge.d))
    assert abs(y1 - (at[2].y + at[2].height)) < 0.2
    assert abs(y2 - at[VENDOR].y) < 0.2


def test_cross_holdings_are_drawn_as_two_curves():
    nodes = [Node(VENDOR, "Vendor", role="vendor"), Node(2, "A"), Node(3, "B")]
    links = [Link(2, VENDOR, "shares 40%"), Link(3, 2, "shares 30%"), Link(2, 3, "shares 20%")]
    picture = layout(nodes, links, VENDOR)
    curves = [e for e in picture.edges if {e.holder, e.subject} == {2, 3}]
    assert len(curves) == 2 and all(" Q " in e.d for e in curves)
    assert curves[0].d != curves[1].d
    assert_drawable(picture)


def test_long_names_wrap_whole_onto_lines_and_the_node_grows_to_hold_them():
    long_name = "The Extremely Long Named International Holdings Company of Everything"
    short = Node(3, "Short Co")
    picture = layout(
        [Node(VENDOR, "V", role="vendor"), Node(2, long_name), short],
        [Link(2, VENDOR, "shares 5%"), Link(3, VENDOR, "shares 6%")],
        VENDOR,
    )
    node, small = placed(picture)[2], placed(picture)[3]
    assert " ".join(node.lines) == long_name and "…" not in node.label  # every word, none cut
    assert len(node.lines) > 1 and all(len(line) <= 24 for line in node.lines)
    assert node.height > small.height
    assert node.name == long_name
    assert_drawable(picture)


def test_only_a_name_past_six_lines_is_cut_and_its_title_stays_whole():
    endless = " ".join(["Holdings"] * 30)
    picture = layout([Node(VENDOR, "V", role="vendor"), Node(2, endless)], [Link(2, VENDOR, "shares 5%")], VENDOR)
    node = placed(picture)[2]
    assert len(node.lines) == 6 and node.lines[-1].endswith("…") and node.name == endless


def test_a_wide_layer_wraps_into_rows_and_nothing_overlaps():
    owners = [Node(i, f"Owner number {i}") for i in range(2, 32)]
    links = [Link(node.id, VENDOR, f"shares {i}%") for i, node in enumerate(owners)]
    picture = layout([Node(VENDOR, "Vendor", role="vendor"), *owners], links, VENDOR)
    rows = {node.cy for node in picture.nodes if node.id != VENDOR}
    assert len(rows) == 4
    assert max(sum(1 for n in picture.nodes if n.cy == cy) for cy in rows) <= PER_ROW
    assert_drawable(picture)


def test_the_picture_is_capped_and_says_how_many_parties_were_left_out():
    owners = [Node(i, f"Owner {i}") for i in range(2, 100)]
    links = [Link(i, VENDOR, "shares 1%") for i in range(2, 50)]
    links += [Link(i, i - 48, "shares 1%") for i in range(50, 100)]
    rival = Node(200, "Far Rival", role="rival")
    links += [Link(200, 99, "shares 90%")]
    picture = layout(
        [Node(VENDOR, "Vendor", role="vendor"), *owners, rival], links, VENDOR, routes=[[200, 99, 51, VENDOR]]
    )
    at = placed(picture)
    assert len(picture.nodes) == MAX_NODES
    assert picture.omitted == 100 - MAX_NODES
    # The vendor, the rival and every party on the route are always kept.
    assert {VENDOR, 200, 99, 51} <= set(at)
    assert_drawable(picture)


def test_barycentre_ordering_uncrosses_two_parallel_chains():
    # Two owners each hold one holding company; sorted by name alone the arrows would cross.
    nodes = [
        Node(VENDOR, "Vendor", role="vendor"),
        Node(2, "A holding"),
        Node(3, "B holding"),
        Node(4, "Z owns A"),
        Node(5, "Y owns B"),
    ]
    links = [Link(2, VENDOR, ""), Link(3, VENDOR, ""), Link(4, 2, ""), Link(5, 3, "")]
    at = placed(layout(nodes, links, VENDOR))
    assert (at[2].cx < at[3].cx) == (at[4].cx < at[5].cx)


def test_a_vendor_alone_is_one_box_and_a_missing_vendor_draws_nothing():
    alone = layout([Node(VENDOR, "Vendor", role="vendor")], [], VENDOR)
    assert [n.id for n in alone.nodes] == [VENDOR] and alone.edges == []
    assert_drawable(alone)
    assert layout([Node(2, "Other")], [], VENDOR).nodes == []


def test_parties_not_connected_to_the_vendor_go_on_the_top_layer():
    nodes = [Node(VENDOR, "Vendor", role="vendor"), Node(2, "Owner"), Node(3, "Stray Rival", role="rival")]
    at = placed(layout(nodes, [Link(2, VENDOR, "shares 5%")], VENDOR))
    assert at[3].cy < at[2].cy < at[VENDOR].cy


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=90), st.data())
def test_any_graph_is_drawn_inside_the_canvas_without_overlaps(size, data):
    ids = list(range(1, size + 1))
    kinds = data.draw(st.lists(st.sampled_from(["entity", "person", "unspecified"]), min_size=size, max_size=size))
    nodes = [Node(i, f"Party {i}" * data.draw(st.integers(1, 4)), kind=k) for i, k in zip(ids, kinds, strict=True)]
    pairs = data.draw(st.lists(st.tuples(st.sampled_from(ids), st.sampled_from(ids)), max_size=3 * size))
    links = [Link(a, b, f"shares {a}%") for a, b in pairs]
    route = data.draw(st.lists(st.sampled_from(ids), max_size=5))
    picture = layout(nodes, links, 1, routes=[route])
    assert_drawable(picture)
    assert len(picture.nodes) == min(size, MAX_NODES)
    assert picture.omitted == size - len(picture.nodes)
    drawn = {node.id for node in picture.nodes}
    for edge in picture.edges:
        assert edge.holder in drawn and edge.subject in drawn
        assert 0 <= edge.label_x <= picture.width and 0 <= edge.label_y <= picture.height
