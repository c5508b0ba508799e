"""The AU knowledge graph of MER-auGCN.

Zhou, Mao, Dong, "MER-auGCN: Micro-expression recognition based on AU graph convolutional
network", Sec. III: the nodes are action units and an edge joins two AUs that co-occur in one
AU combination of the objective classes I-V (Davison et al., J. Imaging 2018, Table 2; the
paper's Table I), i.e. :data:`mejax.datasets.aus.OBJECTIVE_CLASS_COMBINATIONS` without class
VI. Every edge here is derived from that table, none is written out by hand.

* ``"original"``: every AU of the I-V combinations, 17 nodes
  {1, 2, 4, 5, 6, 7, 9, 10, 12, 15, 17, 23, 24, 25, 26, 38, 40} and 26 edges.
* ``"final"`` (the paper's graph): the original one without AUs 23, 24, 26, 38 and 40, the
  subgraph induced by the remaining 12 nodes, 20 edges: 1-2, 1-4, 1-25, 2-25, 4-5, 4-6, 4-7,
  4-9, 4-10, 4-17, 5-7, 5-9, 6-7, 6-12, 6-15, 7-9, 7-10, 7-12, 9-17, 15-17. (The paper's Fig. 3
  draws this graph; these edges are re-derived from Table I, not read off the figure.)
* ``"dense"`` (the DenselyG ablation, Table V): every pair of nodes joined, on the final nodes.

The GCN propagates with ``G``, the binary adjacency with self-loops and, as the paper writes,
without normalisation (:func:`adjacency`); Kipf & Welling's symmetric normalisation
``D^-1/2 (A + I) D^-1/2`` is an option.

Any tuple of AU numbers can serve as nodes (the AU-detection experiment's
(1, 2, 4, 9, 12, 14, 17), Table VII): the edges are the co-occurrences among those nodes, and an
AU in no I-V combination (14) is isolated, with only its self-loop.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from mejax.datasets import aus

GRAPHS = ("final", "original", "dense")
# The objective classes whose combinations define the graph (VI is not one of MER-auGCN's).
GRAPH_CLASSES = ("I", "II", "III", "IV", "V")
# AUs of the original graph left out of the final one (Sec. III).
DROPPED_AUS = (23, 24, 26, 38, 40)


def combinations() -> tuple[frozenset[int], ...]:
    """The AU combinations of the objective classes I-V, in table order."""
    return tuple(c for name in GRAPH_CLASSES for c in aus.OBJECTIVE_CLASS_COMBINATIONS[name])


ORIGINAL_NODES: tuple[int, ...] = tuple(sorted(set().union(*combinations())))
FINAL_NODES: tuple[int, ...] = tuple(au for au in ORIGINAL_NODES if au not in DROPPED_AUS)


def _check_graph(graph: str) -> None:
    if graph not in GRAPHS:
        raise ValueError(f"graph {graph!r} not in {GRAPHS}")


def _check_nodes(nodes: Sequence[int]) -> tuple[int, ...]:
    nodes = tuple(int(au) for au in nodes)
    if not nodes:
        raise ValueError("the AU graph needs at least one node")
    if len(set(nodes)) != len(nodes):
        raise ValueError(f"repeated AU in the graph's nodes {nodes}")
    return nodes


def nodes(graph: str = "final") -> tuple[int, ...]:
    """The AU numbers of ``graph``'s nodes, ascending: 12 for ``final`` and ``dense``, 17 for
    ``original``."""
    _check_graph(graph)
    return ORIGINAL_NODES if graph == "original" else FINAL_NODES


def edges(nodes: Sequence[int]) -> tuple[tuple[int, int], ...]:
    """Edges ``(a, b)``, ``a < b``, between ``nodes`` that co-occur in one I-V combination.

    Sorted; nodes are AU numbers in any order (AUs in no combination get no edge).
    """
    members = set(_check_nodes(nodes))
    found = set()
    for combination in combinations():
        found.update(itertools.combinations(sorted(combination & members), 2))
    return tuple(sorted(found))


def adjacency(
    nodes: Sequence[int],
    graph: str = "final",
    self_loops: bool = True,
    normalize: bool = False,
) -> np.ndarray:
    """The (K, K) float32 adjacency of the graph on ``nodes`` (row/column k = ``nodes[k]``).

    Args:
      nodes: AU numbers, in the order of the GCN's node axis.
      graph: ``"final"`` or ``"original"``: binary co-occurrence edges among ``nodes`` (both
        give the same matrix on the same nodes: the final graph is an induced subgraph; the
        names differ by their default nodes, :func:`nodes`); ``"dense"``: every pair joined.
      self_loops: adds the identity (the paper's G has self-loops).
      normalize: Kipf & Welling's ``D^-1/2 A D^-1/2`` with ``D`` the row sums of the returned
        binary matrix (with ``self_loops``: ``D^-1/2 (A + I) D^-1/2``); a node of degree 0
        (isolated, without self-loop) keeps a zero row and column.

    Returns:
      Symmetric float32 array; binary unless ``normalize``.
    """
    _check_graph(graph)
    nodes = _check_nodes(nodes)
    k = len(nodes)
    if graph == "dense":
        a = np.ones((k, k), np.float64) - np.eye(k)
    else:
        index = {au: i for i, au in enumerate(nodes)}
        a = np.zeros((k, k), np.float64)
        for u, v in edges(nodes):
            a[index[u], index[v]] = a[index[v], index[u]] = 1.0
    if self_loops:
        a += np.eye(k)
    if normalize:
        degree = a.sum(axis=1)
        inv_sqrt = np.divide(1.0, np.sqrt(degree), out=np.zeros_like(degree), where=degree > 0)
        a = inv_sqrt[:, None] * a * inv_sqrt[None, :]
    return a.astype(np.float32)
