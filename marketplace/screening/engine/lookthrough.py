"""Look-through stakes: entries of W(I - W)^-1 solved on sparse matrices, never by walking paths.

W[i][j] is the fraction of j held directly by i. The stake of i in j through every route, cross-holdings and
cycles counted in full, is [W(I - W)^-1][i][j] = [W + W^2 + W^3 + ...][i][j]. That series converges only where
the cycles a route meets carry less than everything round them (spectral radius below 1); where it does not
(a 100% cross-holding, high ends of ranges adding up to more than 100%), the stake is infinite, which screening
reads as 100%.

A `LookThrough` is built per share matrix (one end of the ranges) and set of sources: it keeps the part of
the graph downstream of the sources, splits it into strongly connected blocks, sets the divergent blocks
aside, and factorises the rest once in topological order, where LU has no fill outside the blocks. Where a
block is too large to factorise (a random graph's giant component), the forward part alone is factorised and
the few backward edges are iterated (block Gauss-Seidel), which converges because the divergent blocks are gone.
"""

from collections.abc import Iterable
from typing import Literal, cast, overload

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import sparse
from scipy.sparse.csgraph import breadth_first_order, connected_components, dijkstra
from scipy.sparse.linalg import splu

# Largest strongly connected block factorised directly; beyond it LU fill grows with the square of its size.
DIRECT_LIMIT = 1000
# Blocks up to this size get their spectral radius from dense eigenvalues, larger ones by power iteration
# (sparse products only: multithreaded dense BLAS crawls on a busy two-core server).
DENSE_EIGEN_LIMIT = 24
# A block whose spectral radius is this close to 1 is treated as divergent: its series does not settle.
DIVERGENCE_MARGIN = 1e-9
MAX_SWEEPS = 10000  # Gauss-Seidel sweeps over a block too large to factorise
# Route trees searched in one call by Routes.prefetch: each is two arrays as long as the graph.
TREES_AT_ONCE = 32


def breadth_first(adjacency: sparse.csr_matrix, seeds: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """The nodes reachable from `seeds` (themselves included) in breadth-first order, and for each node the
    node it was first reached from (-1 for seeds and for nodes not reached)."""
    n = adjacency.shape[0]
    seeds = np.unique(np.asarray(seeds, dtype=np.int64))
    # One search from a virtual node n that points at every seed.
    graph = sparse.csr_matrix(
        (
            np.concatenate([adjacency.data, np.ones(seeds.size)]),
            np.concatenate([adjacency.indices, seeds]).astype(adjacency.indices.dtype, copy=False),
            np.concatenate([adjacency.indptr, [adjacency.indptr[-1] + seeds.size]]),
        ),
        shape=(n + 1, n + 1),
    )
    order, parent = breadth_first_order(graph, n, directed=True, return_predecessors=True)
    parent = parent[:n].astype(np.int64)
    parent[(parent == n) | (parent < 0)] = -1
    return order[1:].astype(np.int64), parent


@overload
def downstream(
    adjacency: sparse.csr_matrix, seeds: ArrayLike, parents: Literal[False] = False
) -> NDArray[np.bool_]: ...


@overload
def downstream(
    adjacency: sparse.csr_matrix, seeds: ArrayLike, parents: Literal[True]
) -> tuple[NDArray[np.bool_], np.ndarray]: ...


def downstream(
    adjacency: sparse.csr_matrix, seeds: ArrayLike, parents: bool = False
) -> NDArray[np.bool_] | tuple[NDArray[np.bool_], np.ndarray]:
    """Mask of the nodes reachable from `seeds` (themselves included) along the stored entries of `adjacency`;
    with parents=True also the breadth-first tree (see breadth_first), so routes back are shortest in hops."""
    order, parent = breadth_first(adjacency, seeds)
    mask = np.zeros(adjacency.shape[0], dtype=bool)
    mask[order] = True
    return (mask, parent) if parents else mask


def _topological_order(block: sparse.csr_matrix, labels: np.ndarray, n_blocks: int) -> np.ndarray:
    """Local nodes ordered so that every edge between two blocks goes forward (holders before what they hold);
    within a block they keep their order (breadth-first from the sources, so most edges go forward there too)."""
    coo = block.tocoo()
    src, dst = labels[coo.row], labels[coo.col]
    across = src != dst
    # SciPy's strong-components pass numbers blocks sinks first; check it rather than rely on it.
    if not across.any() or np.all(src[across] > dst[across]):
        return np.argsort(-labels, kind="stable")
    condensed = sparse.csr_matrix((np.ones(int(across.sum())), (src[across], dst[across])), shape=(n_blocks, n_blocks))
    indegree = np.bincount(condensed.indices, minlength=n_blocks)
    rank = np.full(n_blocks, -1, dtype=np.int64)
    frontier, level = np.flatnonzero(indegree == 0), 0
    while frontier.size:
        rank[frontier] = level
        level += 1
        rows = condensed[frontier]
        indegree -= np.bincount(rows.indices, minlength=n_blocks)
        frontier = np.flatnonzero((indegree == 0) & (rank < 0))
    return np.argsort(rank[labels], kind="stable")


def _dense_slice(matrix: sparse.csr_matrix, low: int, high: int) -> np.ndarray:
    """matrix[low:high, low:high] as a dense array."""
    size = high - low
    first, last = matrix.indptr[low], matrix.indptr[high]
    rows = np.repeat(np.arange(size), np.diff(matrix.indptr[low : high + 1]))
    cols = matrix.indices[first:last] - low
    inside = (cols >= 0) & (cols < size)
    dense = np.zeros((size, size))
    np.add.at(dense, (rows[inside], cols[inside]), matrix.data[first:last][inside])
    return dense


def _dense_diverges(block: np.ndarray) -> bool:
    return float(np.max(np.abs(np.linalg.eigvals(block)))) >= 1 - DIVERGENCE_MARGIN


def _diverges(block: sparse.csr_matrix) -> bool:
    """Whether a strongly connected block's spectral radius reaches 1, so that its series never settles."""
    size = block.shape[0]
    if size <= DENSE_EIGEN_LIMIT:
        return _dense_diverges(block.toarray())
    # Collatz-Wielandt: for y > 0, min (By/y) <= rho(B) <= max (By/y). Iterating with I + B (same Perron
    # vector, primitive) tightens both bounds even where B itself is periodic.
    y = np.ones(size)
    for _ in range(5000):
        ratio = (block @ y) / y
        low, high = float(ratio.min()), float(ratio.max())
        if high < 1 - DIVERGENCE_MARGIN:
            return False
        if low >= 1 - DIVERGENCE_MARGIN:
            return True
        y = y + block @ y
        y /= y.max()
    return (low + high) / 2 >= 1 - DIVERGENCE_MARGIN


class _DirectSolver:
    """x = M^T x + b by one LU: M in topological order makes I - M^T block lower triangular."""

    def __init__(self, held: sparse.csr_matrix):
        system = (sparse.identity(held.shape[0], format="csc") - held.T).tocsc()
        # The good part is a nonsingular M-matrix: its diagonal pivots are positive, no pivoting needed.
        self.lu = splu(system, permc_spec="NATURAL", diag_pivot_thresh=0.0)

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        return cast(NDArray[np.float64], self.lu.solve(rhs))


class _SplitSolver:
    """The same system where a block is too large to factorise: Gauss-Seidel by blocks.

    With M split into its forward part F (holder before subject in the order) and backward part B, iterate
    x = (I - F^T)^-1 (B^T x + b): one triangular LU, no fill, then a few solves. It converges because no
    divergent block is left (Stein-Rosenberg: no slower than the series itself), after one solve where the
    order has no backward edge.
    """

    def __init__(self, held: sparse.csr_matrix):
        coo = held.tocoo()
        forward = coo.row < coo.col
        shape = held.shape
        self.forward = _DirectSolver(
            sparse.csr_matrix((coo.data[forward], (coo.row[forward], coo.col[forward])), shape=shape)
        )
        self.backward = sparse.csr_matrix((coo.data[~forward], (coo.col[~forward], coo.row[~forward])), shape=shape)

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        total = self.forward.solve(rhs)
        if not self.backward.nnz:
            return total
        for _ in range(MAX_SWEEPS):
            following = self.forward.solve(self.backward @ total + rhs)
            change = float(np.max(np.abs(following - total))) if total.size else 0.0
            total = following
            # Fractions: 1e-14 is 1e-12 percent, far inside the 1e-9 that exclusive bounds move figures by.
            if change <= 1e-14 * max(1.0, float(np.max(np.abs(total)))):
                break
        return total


class LookThrough:
    """Every stake through every route, for one share matrix, from sources fixed in advance.

    `holdings` is n x n, fractions, W[i][j] = share of j held directly by i; `sources` are the only nodes
    that will be asked about. Only what lies downstream of them is analysed and factorised. Stakes come back
    as fractions; inf marks a divergent series. Blocks larger than `direct_limit` are solved by iteration.

    Applied to the transposed matrix from a target t, it gives the stake of every party in t: the column of
    W(I - W)^-1 is the row of W^T(I - W^T)^-1.
    """

    def __init__(self, holdings: sparse.csr_matrix, sources: ArrayLike, direct_limit: int = DIRECT_LIMIT):
        self.holdings = holdings
        self.n = holdings.shape[0]
        sources = np.asarray(sources, dtype=np.int64)
        self.nodes = breadth_first(holdings, sources)[0] if sources.size else np.zeros(0, np.int64)
        self.local = np.full(self.n, -1, dtype=np.int64)
        self.local[self.nodes] = np.arange(self.nodes.size)
        self.block = holdings[self.nodes][:, self.nodes].tocsr()
        self.divergent, self.good, self.solver = np.zeros(self.nodes.size, dtype=bool), self.nodes, None
        self._places: np.ndarray | None = None
        self._inflow: sparse.csr_matrix | None = None
        if not self.nodes.size:
            return
        n_blocks, labels = connected_components(self.block, directed=True, connection="strong")
        self.divergent = self._divergent_nodes(labels, n_blocks)
        order = _topological_order(self.block, labels, n_blocks)
        self.good = order[~self.divergent[order]]
        if self.good.size:
            held = self.block[self.good][:, self.good].tocsr()
            largest = int(np.bincount(labels[self.good]).max())
            self.solver = _DirectSolver(held) if largest <= direct_limit else _SplitSolver(held)

    def _divergent_nodes(self, labels: NDArray[np.int32], n_blocks: int) -> NDArray[np.bool_]:
        sizes = np.bincount(labels, minlength=n_blocks)
        looped = np.zeros(n_blocks, dtype=bool)
        looped[labels[self.block.diagonal() > 0]] = True
        divergent = np.zeros(n_blocks, dtype=bool)
        candidates = np.flatnonzero((sizes > 1) | looped)
        if candidates.size:
            # The spectral radius is at most the largest row sum inside the block, and the largest column sum:
            # blocks under the margin by either converge, and need no eigenvalues (most cross-holdings are small).
            coo = self.block.tocoo()
            inside = labels[coo.row] == labels[coo.col]
            bound = np.full(n_blocks, np.inf)
            for ends in (coo.row[inside], coo.col[inside]):
                sums = np.bincount(ends, weights=coo.data[inside], minlength=self.nodes.size)
                largest = np.zeros(n_blocks)
                np.maximum.at(largest, labels, sums)
                bound = np.minimum(bound, largest)
            candidates = candidates[bound[candidates] >= 1 - DIVERGENCE_MARGIN]
        if candidates.size:
            by_label = np.argsort(labels, kind="stable")
            starts = np.concatenate(([0], np.cumsum(sizes)))
            # Every block's nodes side by side, once: a small block is then a slice, read without scipy's indexing
            # (thousands of cross-holdings on a large register took a second that way).
            grouped = self.block[by_label][:, by_label].tocsr()
            for label in candidates.tolist():
                low, high = int(starts[label]), int(starts[label + 1])
                if high - low <= DENSE_EIGEN_LIMIT:
                    divergent[label] = _dense_diverges(_dense_slice(grouped, low, high))
                else:
                    members = by_label[low:high]
                    divergent[label] = _diverges(self.block[members][:, members].tocsr())
        return divergent[labels]

    def from_sources(self, sources: sparse.csr_matrix, targets: np.ndarray) -> np.ndarray:
        """k x len(targets): the stake, through every route, of each source row (a weighted set of holders).

        Only the targets' figures are gathered, and only the divergent nodes' inflow is summed: every node's figures
        (a dense array as large as the part of the graph below the sources, times k) were a second or more of
        copying for the unknown owners of a 1M-party register. The solve itself is the same, and so are its figures.
        """
        direct = (sources @ self.holdings).tocsc()[:, self.nodes].toarray().T  # local nodes x k
        k = direct.shape[1]
        where = self.local[np.asarray(targets, dtype=np.int64)]
        out = np.zeros((sources.shape[0], len(where)))
        inside = np.flatnonzero(where >= 0)
        local = where[inside]
        solved = np.zeros((self.good.size, k))
        if self.solver is not None:
            solved = self.solver.solve(np.ascontiguousarray(direct[self.good])).reshape(self.good.size, k)
            np.maximum(solved, 0.0, out=solved)  # rounding noise below zero
        place = self._place[local]
        kept = place >= 0
        out[:, inside[kept]] = solved[place[kept]].T
        if self._divergent_nodes_list.size:
            # A divergent block is reached when anything flows into it; all that lies past it diverges too.
            divergent = self._divergent_nodes_list
            inflow = direct[divergent] + self._into_divergent @ solved
            for column in range(k):
                reached = divergent[inflow[:, column] > 0]
                if reached.size:
                    out[column, inside[downstream(self.block, reached)[local]]] = np.inf
        return out

    @property
    def _place(self) -> np.ndarray:
        """Each local node's place among the good (solved) nodes, -1 for a divergent one."""
        if self._places is None:
            self._places = np.full(self.nodes.size, -1, dtype=np.int64)
            self._places[self.good] = np.arange(self.good.size)
        return self._places

    @property
    def _divergent_nodes_list(self) -> np.ndarray:
        return np.flatnonzero(self.divergent)

    @property
    def _into_divergent(self) -> sparse.csr_matrix:
        """Rows: the divergent nodes; columns: the good nodes holding in them (what flows in from solved figures)."""
        if self._inflow is None:
            self._inflow = self.block[self.good][:, np.flatnonzero(self.divergent)].T.tocsr()
        return self._inflow


class Routes:
    """The largest routes between two parties, for display only: figures never come from here (they come from
    `LookThrough`); this only says which routes carry them."""

    def __init__(self, holdings: sparse.csr_matrix, floor: float = 1e-6):
        self.weights = holdings.copy()
        # A route's product of shares is exp(-(sum of -log share)); the tiny step keeps 100% edges as edges.
        self.weights.data = -np.log(np.clip(self.weights.data, 1e-300, 1.0)) + 1e-12
        self.holders_of = holdings.T.tocsr()
        self.limit = -np.log(floor)
        self.n = holdings.shape[0]
        self._trees: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._found: dict[tuple[int, int, int], list[list[int]]] = {}

    def _tree(self, source: int) -> tuple[np.ndarray, np.ndarray]:
        if source not in self._trees:
            self._trees[source] = dijkstra(self.weights, indices=source, return_predecessors=True, limit=self.limit)
        return self._trees[source]

    def prefetch(self, pairs: Iterable[tuple[int, int]], limit: int = 5) -> None:
        """Find the routes of many (source, target) pairs at once, keeping the routes and not the trees.

        A tree is two arrays as long as the graph: kept for every unknown owner of a large register, they took
        gigabytes. Here the sources are searched in batches (one call, the same search per source as `routes`
        makes), each batch's trees dropped once their targets' routes are read.
        """
        targets: dict[int, list[int]] = {}
        for source, target in pairs:
            if (source, target, limit) not in self._found and source not in self._trees:
                targets.setdefault(source, []).append(target)
        sources = sorted(targets)
        for start in range(0, len(sources), TREES_AT_ONCE):
            batch = np.asarray(sources[start : start + TREES_AT_ONCE], dtype=np.int64)
            # Searched on what the batch reaches, numbered in the same order: a search from a source touches
            # nothing else, in the same order, so it finds the same tree, in arrays as long as that part.
            reached = np.sort(breadth_first(self.weights, batch)[0])
            part = self.weights[reached][:, reached].tocsr()
            distances, parents = dijkstra(
                part, indices=np.searchsorted(reached, batch), return_predecessors=True, limit=self.limit
            )
            for row, source in enumerate(batch.tolist()):
                for target in targets[source]:
                    self._found[source, target, limit] = self._routes_in(
                        distances[row], parents[row], source, target, limit, reached
                    )

    def routes(self, source: int, target: int, limit: int = 5) -> list[list[int]]:
        """Up to `limit` simple routes from source to target, one per last holder, the largest product first.

        From a widest-path tree out of the source (cached, so many targets of one source cost one search, unless
        `prefetch` found them already); routes whose product falls below the floor are not searched.
        """
        found = self._found.get((source, target, limit))
        if found is not None:
            return found
        distance, parent = self._tree(source)
        return self._routes_in(distance, parent, source, target, limit)

    def _routes_in(
        self,
        distance: np.ndarray,
        parent: np.ndarray,
        source: int,
        target: int,
        limit: int,
        reached: np.ndarray | None = None,
    ) -> list[list[int]]:
        """The routes out of a tree searched on the whole graph, or on the part `reached` (sorted nodes, each
        numbered by its place there)."""
        start, end = self.holders_of.indptr[target], self.holders_of.indptr[target + 1]
        holders = self.holders_of.indices[start:end]
        places = holders if reached is None else _places(reached, holders)
        origin = source if reached is None else int(_places(reached, np.array([source]))[0])
        candidates = []
        for holder, place, share in zip(
            holders.tolist(), places.tolist(), self.holders_of.data[start:end].tolist(), strict=True
        ):
            if holder == source:
                candidates.append((-share, [source, target]))
            elif place >= 0 and np.isfinite(distance[place]):
                path = _walk_back(parent, origin, place)
                if reached is not None:
                    path = reached[path].tolist()
                if path and target not in path:
                    candidates.append((-float(np.exp(-distance[place]) * share), path + [target]))
        candidates.sort(key=lambda item: item[0])
        return [path for _, path in candidates[:limit]]


def _places(nodes: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Where each wanted node stands in the sorted `nodes`, -1 where it is not there."""
    if not nodes.size:
        return np.full(wanted.size, -1, dtype=np.int64)
    places = np.minimum(np.searchsorted(nodes, wanted), nodes.size - 1)
    return np.where(nodes[places] == wanted, places, -1)


def _walk_back(parent: np.ndarray, source: int, node: int) -> list[int]:
    path = [node]
    while node != source:
        node = int(parent[node])
        if node < 0:
            return []
        path.append(node)
    return path[::-1]
