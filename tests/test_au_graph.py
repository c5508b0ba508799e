"""Tests of MER-auGCN's AU knowledge graph (Zhou, Mao, Dong, Sec. III): nodes and edges of the
final and original graphs derived from the objective-class table, and the adjacency options."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from mejax import au_graph
from mejax.datasets import aus

FINAL_EDGES = {
    (1, 2), (1, 4), (1, 25), (2, 25), (4, 5), (4, 6), (4, 7), (4, 9), (4, 10), (4, 17),
    (5, 7), (5, 9), (6, 7), (6, 12), (6, 15), (7, 9), (7, 10), (7, 12), (9, 17), (15, 17),
}  # fmt: skip


def test_final_graph_has_the_papers_12_nodes_and_20_edges():
    assert au_graph.nodes("final") == (1, 2, 4, 5, 6, 7, 9, 10, 12, 15, 17, 25)
    assert au_graph.nodes("dense") == au_graph.nodes("final")
    edges = au_graph.edges(au_graph.nodes("final"))
    assert len(edges) == 20 and set(edges) == FINAL_EDGES
    assert list(edges) == sorted(edges) and all(a < b for a, b in edges)


def test_original_graph_has_17_nodes_and_26_edges():
    nodes = au_graph.nodes("original")
    assert nodes == (1, 2, 4, 5, 6, 7, 9, 10, 12, 15, 17, 23, 24, 25, 26, 38, 40)
    edges = set(au_graph.edges(nodes))
    assert len(edges) == 26
    # The final graph is the subgraph induced by the remaining nodes.
    assert {e for e in edges if not set(e) & set(au_graph.DROPPED_AUS)} == FINAL_EDGES
    # The six edges through a dropped AU.
    assert edges - FINAL_EDGES == {(4, 38), (4, 40), (5, 24), (5, 40), (17, 24), (25, 26)}


def test_edges_come_from_the_class_table():
    # By hand: class I's (6, 7, 12) joins 6-7, 6-12, 7-12; class IV's (4, 5, 7, 9) joins all six
    # pairs; class VI's (1, 2, 4) is not a source (2-4 is no edge).
    final = set(au_graph.edges(au_graph.FINAL_NODES))
    assert {(6, 7), (6, 12), (7, 12)} <= final
    assert set(itertools.combinations((4, 5, 7, 9), 2)) <= final
    assert (2, 4) not in final
    # Recomputed from aus.OBJECTIVE_CLASS_COMBINATIONS for any node set.
    members = {4, 5, 9, 12, 20}
    expected = {
        pair
        for name in ("I", "II", "III", "IV", "V")
        for combination in aus.OBJECTIVE_CLASS_COMBINATIONS[name]
        for pair in itertools.combinations(sorted(combination & members), 2)
    }
    assert set(au_graph.edges(tuple(members))) == expected == {(4, 5), (4, 9), (5, 9)}


@pytest.mark.parametrize("graph", ["final", "original"])
def test_adjacency_is_the_symmetric_binary_graph_with_self_loops(graph):
    nodes = au_graph.nodes(graph)
    a = au_graph.adjacency(nodes, graph)
    assert a.dtype == np.float32 and a.shape == (len(nodes), len(nodes))
    np.testing.assert_array_equal(a, a.T)
    np.testing.assert_array_equal(np.diag(a), 1.0)
    assert set(np.unique(a)) == {0.0, 1.0}
    index = {au: i for i, au in enumerate(nodes)}
    off = a - np.eye(len(nodes))
    assert off.sum() == 2 * len(au_graph.edges(nodes))
    for u, v in au_graph.edges(nodes):
        assert off[index[u], index[v]] == 1.0
    no_loops = au_graph.adjacency(nodes, graph, self_loops=False)
    np.testing.assert_array_equal(no_loops, off)


def test_adjacency_follows_the_node_order():
    nodes = (25, 1, 12, 6)
    a = au_graph.adjacency(nodes)
    expected = np.eye(4)
    for i, j in ((0, 1), (2, 3)):  # 1-25, 6-12
        expected[i, j] = expected[j, i] = 1.0
    np.testing.assert_array_equal(a, expected)


def test_kipf_normalisation():
    nodes = au_graph.nodes("final")
    a = au_graph.adjacency(nodes).astype(np.float64)
    d = np.diag(a.sum(axis=1) ** -0.5)
    got = au_graph.adjacency(nodes, normalize=True)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, d @ a @ d, rtol=1e-6)
    np.testing.assert_allclose(got, got.T)
    # Normalised entries: 1 / sqrt(d_i d_j); AU4 has 7 neighbours + itself.
    i4 = nodes.index(4)
    np.testing.assert_allclose(got[i4, i4], 1 / 8, rtol=1e-6)


def test_dense_graph_is_all_ones():
    nodes = au_graph.nodes("dense")
    np.testing.assert_array_equal(au_graph.adjacency(nodes, "dense"), np.ones((12, 12)))
    np.testing.assert_array_equal(
        au_graph.adjacency(nodes, "dense", self_loops=False), 1 - np.eye(12)
    )
    np.testing.assert_allclose(
        au_graph.adjacency(nodes, "dense", normalize=True), np.full((12, 12), 1 / 12), rtol=1e-6
    )


def test_au_detection_nodes_with_an_isolated_au14():
    nodes = (1, 2, 4, 9, 12, 14, 17)
    assert au_graph.edges(nodes) == ((1, 2), (1, 4), (4, 9), (4, 17), (9, 17))
    a = au_graph.adjacency(nodes)
    i14 = nodes.index(14)
    expected_row = np.zeros(7)
    expected_row[i14] = 1.0
    np.testing.assert_array_equal(a[i14], expected_row)
    np.testing.assert_array_equal(a[:, i14], expected_row)
    # Without self-loops AU14 has degree 0: normalisation keeps its row at zero.
    normalised = au_graph.adjacency(nodes, self_loops=False, normalize=True)
    assert np.all(np.isfinite(normalised)) and not normalised[i14].any()


def test_invalid_arguments():
    with pytest.raises(ValueError, match="graph"):
        au_graph.nodes("sparse")
    with pytest.raises(ValueError, match="graph"):
        au_graph.adjacency((1, 2), "sparse")
    with pytest.raises(ValueError, match="repeated"):
        au_graph.adjacency((1, 2, 1))
    with pytest.raises(ValueError, match="at least one"):
        au_graph.edges(())
