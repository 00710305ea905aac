"""Passes over a graph's condensation: each group of nodes joined in a cycle merged into one, so the
feedback loops through ``records_outcome`` cost nothing extra, and every pass is linear in the edges.

Used by :mod:`lineage.insights` (what each asset underpins), :mod:`lineage.confidence` (each
decision's data confidence) and :mod:`lineage.whatif`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph


def unique_sorted(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values. ``np.unique`` builds a hash table first in numpy 2.4, which is ten
    times slower on millions of integers than sorting."""
    if values.size == 0:
        return values
    ordered = np.sort(values)
    return ordered[np.r_[True, ordered[1:] != ordered[:-1]]]


@dataclass(frozen=True)
class Condensed:
    """A graph's strongly connected groups merged: ``label`` maps each node to its group, and the
    group edges are distinct and never loops, so they form a DAG."""

    label: np.ndarray
    count: int
    sources: np.ndarray
    targets: np.ndarray


def condense(size: int, sources: np.ndarray, targets: np.ndarray) -> Condensed:
    matrix = sp.csr_matrix((np.ones(sources.size, dtype=np.int8), (sources, targets)), shape=(size, size))
    count, label = csgraph.connected_components(matrix, directed=True, connection="strong")
    label = label.astype(np.int64)
    group_sources, group_targets = label[sources], label[targets]
    between = group_sources != group_targets
    pairs = unique_sorted(group_sources[between] * count + group_targets[between])
    return Condensed(label, int(count), pairs // count, pairs % count)


def waves(count: int, sources: np.ndarray, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A DAG's nodes in topological order, in waves: each wave holds the nodes whose predecessors
    are all in earlier waves. Returns the order and where each wave starts in it (and ends)."""
    by_source = np.argsort(sources, kind="stable")
    children = targets[by_source]
    indptr = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(sources, minlength=count), out=indptr[1:])
    waiting = np.bincount(targets, minlength=count)
    frontier = np.flatnonzero(waiting == 0)
    order, bounds = [], [0]
    while frontier.size:
        order.append(frontier)
        bounds.append(bounds[-1] + frontier.size)
        begin = indptr[frontier]
        counts = indptr[frontier + 1] - begin
        total = int(counts.sum())
        if total == 0:
            break
        reached = children[np.arange(total) + np.repeat(begin - (np.cumsum(counts) - counts), counts)]
        waiting -= np.bincount(reached, minlength=count)
        candidates = unique_sorted(reached)
        frontier = candidates[waiting[candidates] == 0]
    return (np.concatenate(order) if order else np.zeros(0, dtype=np.int64)), np.array(bounds, dtype=np.int64)


def ancestor_minimum(condensed: Condensed, values: np.ndarray) -> np.ndarray:
    """Per group: the minimum of ``values`` (one row per group) over the group and every group
    upstream of it. One pass in topological order, a wave at a time."""
    result = values.copy()
    order, bounds = waves(condensed.count, condensed.sources, condensed.targets)
    wave = np.empty(condensed.count, dtype=np.int64)
    wave[order] = np.repeat(np.arange(bounds.size - 1), np.diff(bounds))
    by_wave = np.argsort(wave[condensed.sources], kind="stable")
    sources, targets = condensed.sources[by_wave], condensed.targets[by_wave]
    edge_bounds = np.searchsorted(wave[sources], np.arange(bounds.size))
    for start, end in zip(edge_bounds[:-1].tolist(), edge_bounds[1:].tolist()):
        if start < end:
            np.minimum.at(result, targets[start:end], result[sources[start:end]])
    return result


def descendant_union(condensed: Condensed, own: sp.csr_matrix) -> tuple[sp.csr_matrix, np.ndarray]:
    """Per group: the union of the 0/1 rows of ``own`` (one row per group) for the group and every
    group downstream of it. Returns the unions as a 0/1 matrix with one row per group in reverse
    topological order, and the row of each group in it (``union[row[group]]``).

    The unions are built in reverse topological order, a wave at a time: a wave's rows are the
    product of its children (all in earlier waves) with the rows made so far, plus its own. Rows
    are appended to growing buffers, so no wave copies the ones before it.
    """
    order, bounds = waves(condensed.count, condensed.targets, condensed.sources)  # sinks first
    row = np.empty(condensed.count, dtype=np.int64)
    row[order] = np.arange(condensed.count)
    children = sp.csr_matrix((np.ones(condensed.sources.size, dtype=np.int32),
                              (row[condensed.sources], row[condensed.targets])), shape=(condensed.count,) * 2)
    own = own[order]
    columns = own.shape[1]
    indptr = np.zeros(condensed.count + 1, dtype=np.int64)
    indices = np.empty(max(4 * own.nnz, 1024), dtype=np.int32)
    ones = np.ones(indices.size, dtype=np.int8)
    first = own[bounds[0]:bounds[1]]
    used = first.nnz
    indices[:used] = first.indices
    indptr[1:bounds[1] + 1] = first.indptr[1:]
    for start, end in zip(bounds[1:-1].tolist(), bounds[2:].tolist()):
        done = sp.csr_matrix((ones[:used], indices[:used], indptr[:start + 1]), shape=(start, columns))
        wave = children[start:end]
        wave = sp.csr_matrix((wave.data, wave.indices, wave.indptr), shape=(end - start, start))  # children come first
        block = wave @ done + own[start:end]
        if used + block.nnz > indices.size:
            grown = max(2 * indices.size, used + block.nnz)
            indices = np.concatenate([indices[:used], np.empty(grown - used, dtype=np.int32)])
            ones = np.ones(grown, dtype=np.int8)
        indices[used:used + block.nnz] = block.indices
        indptr[start + 1:end + 1] = used + block.indptr[1:]
        used += block.nnz
    union = sp.csr_matrix((ones[:used], indices[:used], indptr), shape=(condensed.count, columns))
    return union, row


def row_maxima(matrix: sp.csr_matrix, weights: np.ndarray) -> np.ndarray:
    """Per row of a 0/1 matrix: the largest of ``weights`` (one per column) over its columns, 0 for
    an empty row.

    >>> row_maxima(sp.csr_matrix(np.array([[1, 1, 0], [0, 0, 0], [0, 1, 1]])), np.array([5.0, 2.0, 9.0]))
    array([5., 0., 9.])
    """
    result = np.zeros(matrix.shape[0])
    filled = np.flatnonzero(np.diff(matrix.indptr) > 0)
    if filled.size:
        result[filled] = np.maximum.reduceat(weights[matrix.indices], matrix.indptr[filled])
    return result
