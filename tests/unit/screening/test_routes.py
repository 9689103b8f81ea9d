"""The routes a finding cites are the same whether found one source at a time or many sources in batches.

Screening a large register finds the routes of thousands of unknown owners in batches, each searched on the part of
the graph its batch reaches (Routes.prefetch), instead of keeping a tree as long as the graph per owner: the
routes, ties between equal routes included, must be the ones a search of the whole graph gives.
"""

import random

import numpy as np
import pytest
from scipy import sparse

from marketplace.screening.engine import lookthrough
from marketplace.screening.engine.lookthrough import Routes


def random_holdings(seed: int, n: int = 60, edges: int = 180) -> sparse.csr_matrix:
    """A random share matrix with cycles, 100% holdings and many equal shares (so that routes tie)."""
    rng = random.Random(seed)
    pairs = {}
    for _ in range(edges):
        holder, subject = rng.randrange(n), rng.randrange(n)
        if holder != subject:
            pairs[holder, subject] = rng.choice([0.1, 0.2, 0.25, 0.5, 0.5, 1.0, rng.uniform(0.01, 1)])
    rows, cols = zip(*pairs, strict=True)
    return sparse.csr_matrix((list(pairs.values()), (rows, cols)), shape=(n, n))


@pytest.mark.parametrize("seed", range(8))
def test_batched_routes_are_the_routes_of_one_search_each(seed, monkeypatch):
    holdings = random_holdings(seed)
    monkeypatch.setattr(lookthrough, "TREES_AT_ONCE", 3)  # several batches, each reaching a different part
    pairs = [(source, target) for source in range(0, 60, 2) for target in range(60) if source != target]
    one_by_one = Routes(holdings)
    expected = {pair: one_by_one.routes(*pair) for pair in pairs}
    batched = Routes(holdings)
    batched.prefetch(pairs)
    assert not batched._trees  # no tree kept
    assert {pair: batched.routes(*pair) for pair in pairs} == expected
    assert any(len(found) > 1 for found in expected.values())


def test_a_source_reaching_nothing_has_no_routes():
    holdings = sparse.csr_matrix((np.array([0.5]), (np.array([1]), np.array([2]))), shape=(4, 4))
    routes = Routes(holdings)
    routes.prefetch([(0, 2), (1, 2), (3, 0)])
    assert routes.routes(0, 2) == [] and routes.routes(3, 0) == []
    assert routes.routes(1, 2) == [[1, 2]]
