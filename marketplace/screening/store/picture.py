"""The picture of a vendor's ownership: the graph around it, laid out for an inline SVG drawn server-side.

`load_neighbourhood` reads the parties and ties around the vendor; `layout` is pure arithmetic from nodes,
links and the routes to highlight to positions and paths the template draws. Layers follow the distance upstream
from the vendor (the vendor at the bottom, its owners above it, theirs above them); within a layer the nodes are
spread evenly and ordered by a barycentre pass so that fewer arrows cross.
"""

import math
import re
import textwrap
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import cast

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.accounts.models import Organization
from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion
from marketplace.parties.counting import counted_version_ids
from marketplace.parties.models import (
    ROLE_INTEREST_TYPES,
    CommercialTie,
    Interest,
    Party,
    PartyKind,
    TieOrigin,
    VerificationLevel,
)
from marketplace.screening.engine.claims import counts_only_for_filer
from marketplace.screening.store.loader import load_aliases

MAX_NODES = 60
MAX_DEPTH = 6
# Loading stops growing the neighbourhood past this many parties; the layout keeps at most MAX_NODES of them.
LOAD_LIMIT = 400
PER_ROW = 8
SLOT_WIDTH = 230
ROW_HEIGHT = 150
# A straight arrow's label sits this far along it from the holder: arrows into one company fan in, and their
# labels would meet at the middle.
LABEL_AT = 0.4
MARGIN = 24
BOX_HEIGHT = 36
ELLIPSE_HEIGHT = 42
MIN_NODE_WIDTH, MAX_NODE_WIDTH = 72, 170
LABEL_CHARS = 24
MAX_LABEL_LINES = 6
CHAR_WIDTH = 6.6
LINE_HEIGHT = 12
UNKNOWN_TYPES = {"anonymousEntity", "unknownEntity", "anonymousPerson", "unknownPerson"}
TYPE_WORDS = {
    "shareholding": "shares",
    "votingRights": "votes",
    "appointmentOfBoard": "appoints board",
    "boardMember": "board member",
    "boardChair": "board chair",
    "seniorManagingOfficial": "senior officer",
    "otherInfluenceOrControl": "influence",
    "rightsGrantedByContract": "contract rights",
    "conditionalRightsGrantedByContract": "conditional rights",
    "unknownInterest": "unknown interest",
    "unpublishedInterest": "unpublished interest",
    "exclusive_agreement": "exclusive agreement",
}


@dataclass(frozen=True)
class Node:
    """A party to draw. `role` is "vendor" (the one screened), "rival" (a rival of the buyer) or ""."""

    id: int
    name: str
    kind: str = "entity"  # marketplace.parties.models.PartyKind value
    unknown: bool = False
    role: str = ""


@dataclass(frozen=True)
class Link:
    """`holder` holds an interest in `subject`; `ended` marks a former role still inside the people window."""

    holder: int
    subject: int
    label: str
    ended: bool = False


@dataclass(frozen=True)
class PlacedNode:
    id: int
    name: str
    label: str
    shape: str  # "box" or "ellipse"
    cx: float
    cy: float
    width: float
    height: float
    classes: str
    # The label's lines: the whole name, wrapped (never cut but past MAX_LABEL_LINES lines).
    lines: tuple[str, ...] = ()

    @property
    def x(self) -> float:
        return round(self.cx - self.width / 2, 1)

    @property
    def y(self) -> float:
        return round(self.cy - self.height / 2, 1)


@dataclass(frozen=True)
class PlacedEdge:
    holder: int
    subject: int
    d: str
    lines: list[str]
    label_x: float
    label_y: float
    highlighted: bool
    classes: str
    title: str


@dataclass
class Picture:
    width: float
    height: float
    nodes: list[PlacedNode] = field(default_factory=list)
    edges: list[PlacedEdge] = field(default_factory=list)
    # Parties of the neighbourhood left out to keep the picture readable.
    omitted: int = 0


# --- Layout: pure arithmetic -----------------------------------------------------------------------------------


def _lines(name: str) -> list[str]:
    """The whole name, wrapped at word boundaries into lines of at most LABEL_CHARS (a longer word is split);
    only a name past MAX_LABEL_LINES lines is cut, and its node's title still gives it whole."""
    lines = textwrap.wrap(name, LABEL_CHARS, break_long_words=True, break_on_hyphens=True) or [name]
    if len(lines) > MAX_LABEL_LINES:
        lines = lines[:MAX_LABEL_LINES]
        lines[-1] = lines[-1][: LABEL_CHARS - 1].rstrip() + "…"
    return lines


def _layers(node_ids: set[int], links: list[Link], root: int) -> dict[int, int]:
    """Distance upstream from the root; parties reached only otherwise (a person's other roles) sit one above
    the party that reached them; parties not connected at all go on the top layer."""
    holders, neighbours = defaultdict(set), defaultdict(set)
    for link in links:
        holders[link.subject].add(link.holder)
        neighbours[link.subject].add(link.holder)
        neighbours[link.holder].add(link.subject)
    layer = {root: 0}
    queue = deque([root])
    while queue:
        current = queue.popleft()
        for holder in sorted(holders[current]):
            if holder in node_ids and holder not in layer:
                layer[holder] = layer[current] + 1
                queue.append(holder)
    queue = deque(sorted(layer, key=lambda n: (layer[n], n)))
    while queue:
        current = queue.popleft()
        for other in sorted(neighbours[current]):
            if other in node_ids and other not in layer:
                layer[other] = layer[current] + 1
                queue.append(other)
    top = max(layer.values()) + 1
    return {n: layer.get(n, top) for n in node_ids}


def _route_pairs(routes: list[list[int]]) -> set[frozenset[int]]:
    return {frozenset(pair) for route in routes for pair in zip(route, route[1:], strict=False) if pair[0] != pair[1]}


def _keep(nodes: list[Node], layer: dict[int, int], on_route: set[int], root: int, limit: int) -> list[Node]:
    """The nodes to draw: the vendor, the routes and the rivals first, then the nearest layers."""

    def priority(node: Node):
        return (node.id != root, node.id not in on_route, node.role != "rival", layer[node.id], node.name, node.id)

    return sorted(nodes, key=priority)[:limit]


def _order_layers(by_layer: dict[int, list[int]], links: list[Link]) -> None:
    """Barycentre ordering, in place: each layer sorted by the mean position of its neighbours in the layer
    below (sweeping up), then in the layer above (sweeping down), a few times over."""
    neighbours = defaultdict(set)
    for link in links:
        neighbours[link.holder].add(link.subject)
        neighbours[link.subject].add(link.holder)

    def align(number: int, other_number: int) -> None:
        other, own = by_layer.get(other_number, []), by_layer[number]
        placed = {n: (i + 0.5) / len(other) for i, n in enumerate(other)}
        current = {n: (i + 0.5) / len(own) for i, n in enumerate(own)}

        def barycentre(n: int) -> float:
            near = [placed[m] for m in neighbours[n] if m in placed]
            return sum(near) / len(near) if near else current[n]

        own.sort(key=barycentre)

    layers = sorted(by_layer)
    for _ in range(4):
        for number in layers[1:]:
            align(number, number - 1)
        for number in reversed(layers[:-1]):
            align(number, number + 1)


def _node_size(node: Node, lines: list[str]) -> tuple[float, float]:
    longest = max(len(line) for line in lines)
    width = round(min(MAX_NODE_WIDTH, max(MIN_NODE_WIDTH, longest * CHAR_WIDTH + 24)), 1)
    base = ELLIPSE_HEIGHT if node.kind == PartyKind.PERSON else BOX_HEIGHT
    return width, base + (len(lines) - 1) * LINE_HEIGHT * (1.4 if node.kind == PartyKind.PERSON else 1.0)


def _clip(center: tuple[float, float], toward: tuple[float, float], node: PlacedNode) -> tuple[float, float]:
    """Where the line from the node's centre toward a point leaves the node's outline."""
    dx, dy = toward[0] - center[0], toward[1] - center[1]
    if dx == 0 and dy == 0:
        return center
    half_w, half_h = node.width / 2, node.height / 2
    if node.shape == "ellipse":
        t = 1 / math.sqrt((dx / half_w) ** 2 + (dy / half_h) ** 2)
    else:
        t = min(half_w / abs(dx) if dx else math.inf, half_h / abs(dy) if dy else math.inf)
    t = min(t, 1.0)
    return round(center[0] + t * dx, 1), round(center[1] + t * dy, 1)


def _edge(
    holder: PlacedNode, subject: PlacedNode, lines: list[str], *, bend: bool, highlighted: bool, ended: bool
) -> PlacedEdge:
    start, end = (holder.cx, holder.cy), (subject.cx, subject.cy)
    mid = ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2)
    control = mid
    if bend:
        dx, dy = end[0] - start[0], end[1] - start[1]
        length = math.hypot(dx, dy) or 1
        offset = 34 if dy else 46
        control = (mid[0] - dy / length * offset, mid[1] + dx / length * offset)
    p0, p2 = _clip(start, control, holder), _clip(end, control, subject)
    if bend:
        d = f"M {p0[0]} {p0[1]} Q {round(control[0], 1)} {round(control[1], 1)} {p2[0]} {p2[1]}"
        label = (0.25 * p0[0] + 0.5 * control[0] + 0.25 * p2[0], 0.25 * p0[1] + 0.5 * control[1] + 0.25 * p2[1])
    else:
        d = f"M {p0[0]} {p0[1]} L {p2[0]} {p2[1]}"
        label = (p0[0] + LABEL_AT * (p2[0] - p0[0]), p0[1] + LABEL_AT * (p2[1] - p0[1]))
    classes = " ".join(c for c in ("edge", "route" if highlighted else "", "ended" if ended else "") if c)
    title = f"{holder.name} → {subject.name}: {'; '.join(lines) if lines else 'interest'}"
    return PlacedEdge(
        holder.id, subject.id, d, lines, round(label[0], 1), round(label[1], 1), highlighted, classes, title
    )


def layout(
    nodes: list[Node], links: list[Link], root: int, routes: list[list[int]] | None = None, max_nodes: int = MAX_NODES
) -> Picture:
    """Place every node and route every link; returns what the template draws.

    Nodes never overlap and all lie inside the canvas; links between the same two parties are drawn as one
    arrow with one label line each; links on a route (consecutive parties of `routes`) are highlighted.
    """
    routes = [list(r) for r in routes or [] if r]
    by_id = {node.id: node for node in nodes}
    if root not in by_id:
        return Picture(width=2 * MARGIN, height=2 * MARGIN, omitted=len(by_id))
    known_links = [link for link in links if link.holder in by_id and link.subject in by_id]
    layer = _layers(set(by_id), known_links, root)
    on_route = {n for route in routes for n in route}
    kept = _keep(list(by_id.values()), layer, on_route, root, max_nodes)
    kept_ids = {node.id for node in kept}
    kept_links = [link for link in known_links if link.holder in kept_ids and link.subject in kept_ids]

    # Compact the layers that are left, then split wide layers into rows of at most PER_ROW.
    used = sorted({layer[n] for n in kept_ids})
    compact = {old: new for new, old in enumerate(used)}
    by_layer: dict[int, list[int]] = defaultdict(list)
    for node in sorted(kept, key=lambda n: (n.id not in on_route, n.name, n.id)):
        by_layer[compact[layer[node.id]]].append(node.id)
    _order_layers(by_layer, kept_links)
    rows: list[list[int]] = []
    for number in sorted(by_layer):
        members = by_layer[number]
        rows.extend(members[i : i + PER_ROW] for i in range(0, len(members), PER_ROW))

    columns = max(len(row) for row in rows)
    width = 2 * MARGIN + columns * SLOT_WIDTH
    height = 2 * MARGIN + len(rows) * ROW_HEIGHT
    inner = width - 2 * MARGIN
    placed: dict[int, PlacedNode] = {}
    for row_number, row in enumerate(rows):
        cy = height - MARGIN - row_number * ROW_HEIGHT - ROW_HEIGHT / 2
        for index, node_id in enumerate(row):
            node = by_id[node_id]
            lines = _lines(node.name)
            node_width, node_height = _node_size(node, lines)
            shape = "ellipse" if node.kind == PartyKind.PERSON else "box"
            classes = " ".join(
                c
                for c in (
                    "node",
                    str(node.kind),
                    "unknown" if node.unknown or node.kind == PartyKind.UNSPECIFIED else "",
                    node.role,
                    "on-route" if node_id in on_route else "",
                )
                if c
            )
            placed[node_id] = PlacedNode(
                node.id,
                node.name,
                " ".join(lines),
                shape,
                round(MARGIN + (index + 0.5) * inner / len(row), 1),
                round(cy, 1),
                node_width,
                node_height,
                classes,
                tuple(lines),
            )

    pairs = _route_pairs(routes)
    grouped: dict[tuple[int, int], list[Link]] = defaultdict(list)
    for link in kept_links:
        if link.holder != link.subject:
            grouped[(link.holder, link.subject)].append(link)
    edges = []
    for (holder, subject), group in sorted(grouped.items()):
        same_row = placed[holder].cy == placed[subject].cy
        bend = (subject, holder) in grouped or same_row
        lines = sorted({link.label for link in group if link.label})
        edges.append(
            _edge(
                placed[holder],
                placed[subject],
                lines,
                bend=bend,
                highlighted=frozenset((holder, subject)) in pairs,
                ended=all(link.ended for link in group),
            )
        )
    # Highlighted routes are drawn last, on top of the other arrows.
    edges.sort(key=lambda e: e.highlighted)
    return Picture(width=width, height=height, nodes=list(placed.values()), edges=edges, omitted=len(by_id) - len(kept))


# --- Loading the neighbourhood ---------------------------------------------------------------------------------


def share_label(interest: Interest) -> str:
    """The share as it is known: "49%", "30–50%", "≥30%", or nothing."""
    low, high = interest.share_min, interest.share_max
    if interest.share_exact is not None:
        return f"{interest.share_exact:g}%"
    if low is not None and high is not None:
        return f"{low:g}–{high:g}%"
    if low is not None:
        return f"{'>' if interest.share_min_exclusive else '≥'}{low:g}%"
    if high is not None:
        return f"{'<' if interest.share_max_exclusive else '≤'}{high:g}%"
    return ""


def type_words(code: str) -> str:
    """A BODS interest type (or a commercial tie kind) in words: votingRights → "votes"."""
    if code in TYPE_WORDS:
        return TYPE_WORDS[code]
    return re.sub(r"(?<!^)(?=[A-Z])", " ", code).replace("_", " ").lower()


def _counts(counted_versions: set[int]):
    return or_(col(Interest.origin) != TieOrigin.DISCLOSURE, col(Interest.disclosure_id).in_(counted_versions))


def _claims_of_others(session: Session, vendor: int, resolve):
    """Whether an interest is another vendor's unreviewed claim, about a third party or, in a version awaiting
    review, about itself: it counts only in its filer's screening (marketplace.screening.store.loader), so it is not
    drawn around this vendor."""
    rows = session.execute(
        select(col(DisclosureVersion.id), col(Organization.party_id), col(DisclosureVersion.status)).join(
            Organization, col(Organization.id) == DisclosureVersion.vendor_org_id
        )
    ).all()
    filers = {version: party for version, party, _ in rows}
    approved = {version for version, _, status in rows if status == DisclosureStatus.APPROVED}

    def claimed_by_another(interest: Interest) -> bool:
        if interest.origin != TieOrigin.DISCLOSURE or interest.verification_level != VerificationLevel.SELF_DECLARED:
            return False
        filer = filers.get(cast(int, interest.disclosure_id))
        filer = resolve(filer) if filer is not None else None
        if filer is None or filer == vendor:
            return False
        return counts_only_for_filer(
            self_declared=True,
            about_filer=filer == resolve(interest.subject_party_id),
            approved=interest.disclosure_id in approved,
        )

    return claimed_by_another


def _interests(
    session: Session,
    condition,
    counted_versions: set[int],
    as_of: date,
    window_start: date,
    leave_out=lambda interest: False,
):
    """Counted interests matching the condition: in force at as_of, or a role ended inside the people window."""
    return [
        interest
        for interest in session.execute(
            select(Interest).where(
                condition,
                _counts(counted_versions),
                or_(col(Interest.start_date).is_(None), col(Interest.start_date) <= as_of),
                or_(
                    col(Interest.end_date).is_(None),
                    col(Interest.end_date) > as_of,
                    col(Interest.interest_type).in_(sorted(ROLE_INTEREST_TYPES))
                    & (col(Interest.end_date) > window_start),
                ),
            )
        )
        .scalars()
        .all()
        if not leave_out(interest)
    ]


def _link(interest: Interest, as_of: date, resolve) -> Link:
    ended = interest.end_date is not None and interest.end_date <= as_of
    words = type_words(interest.interest_type)
    label = " ".join(part for part in ("former" if ended else "", words, share_label(interest)) if part)
    return Link(resolve(interest.interested_party_id), resolve(interest.subject_party_id), label, ended)


def load_neighbourhood(
    session: Session,
    vendor_party_id: int,
    *,
    rival_party_ids=(),
    route_party_ids=(),
    as_of: date,
    people_window_months: int = 24,
) -> tuple[list[Node], list[Link]]:
    """The parties and counted ties around a vendor: owners upstream up to MAX_DEPTH, the people in them and
    their other roles, the vendor's commercial ties, and every party on a route. Merged parties count as the
    party they joined."""
    counted = counted_version_ids(session)
    merges = load_aliases(session)
    resolve = merges.resolve
    window_start = as_of - timedelta(days=round(people_window_months * 30.44))
    vendor = resolve(vendor_party_id)
    others = _claims_of_others(session, vendor, resolve)
    seen, frontier = {vendor}, {vendor}
    for _ in range(MAX_DEPTH):
        if not frontier or len(seen) >= LOAD_LIMIT:
            break
        found = _interests(
            session, col(Interest.subject_party_id).in_(merges.expand(frontier)), counted, as_of, window_start, others
        )
        frontier = {resolve(i.interested_party_id) for i in found} - seen
        seen |= frontier
    people = (
        session.execute(
            select(col(Party.id)).where(col(Party.id).in_(sorted(seen)), col(Party.kind) == PartyKind.PERSON)
        )
        .scalars()
        .all()
    )
    if people:
        roles = _interests(
            session,
            col(Interest.interested_party_id).in_(merges.expand(people))
            & col(Interest.interest_type).in_(sorted(ROLE_INTEREST_TYPES)),
            counted,
            as_of,
            window_start,
            others,
        )
        seen |= {resolve(i.subject_party_id) for i in roles}
    ties = (
        session.execute(
            select(CommercialTie).where(
                col(CommercialTie.vendor_party_id).in_(merges.expand([vendor])),
                or_(col(CommercialTie.origin) != TieOrigin.DISCLOSURE, col(CommercialTie.disclosure_id).in_(counted)),
                or_(col(CommercialTie.start_date).is_(None), col(CommercialTie.start_date) <= as_of),
                or_(col(CommercialTie.end_date).is_(None), col(CommercialTie.end_date) > as_of),
            )
        )
        .scalars()
        .all()
    )
    seen |= {resolve(t.counterparty_id) for t in ties} | {resolve(p) for p in route_party_ids}
    parties = session.execute(select(Party).where(col(Party.id).in_(sorted(seen)))).scalars().all()
    rivals = {resolve(p) for p in rival_party_ids}
    nodes = [
        Node(
            p.id,
            p.name,
            str(p.kind),
            p.kind == PartyKind.UNSPECIFIED or p.party_type in UNKNOWN_TYPES,
            "vendor" if p.id == vendor else ("rival" if p.id in rivals else ""),
        )
        for p in parties
    ]
    inside = merges.expand(p.id for p in parties)
    links = [
        _link(i, as_of, resolve)
        for i in _interests(
            session,
            col(Interest.interested_party_id).in_(inside) & col(Interest.subject_party_id).in_(inside),
            counted,
            as_of,
            window_start,
            others,
        )
    ]
    for tie in ties:
        share = f" {tie.revenue_share_pct:g}% of revenue" if tie.revenue_share_pct is not None else ""
        links.append(Link(resolve(tie.counterparty_id), vendor, f"{type_words(str(tie.kind))}{share}"))
    return nodes, [link for link in links if link.holder != link.subject]


def vendor_picture(
    session: Session, vendor_party_id: int, screening, rival_party_ids, as_of: date, people_window_months: int = 24
) -> Picture:
    """The picture of one vendor's neighbourhood, with the routes of the screening's findings highlighted."""
    resolve = load_aliases(session).resolve
    routes = [[resolve(n) for n in route] for finding in screening.findings for route in finding.path_ids if route]
    nodes, links = load_neighbourhood(
        session,
        vendor_party_id,
        rival_party_ids=rival_party_ids,
        route_party_ids={n for route in routes for n in route},
        as_of=as_of,
        people_window_months=people_window_months,
    )
    root = next((node.id for node in nodes if node.role == "vendor"), vendor_party_id)
    return layout(nodes, links, root, routes)
