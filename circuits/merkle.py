"""Fixed-depth binary Merkle trees with Poseidon(2) nodes: native oracle and in-circuit root.

A tree of ``size`` = 2**depth leaves (depth >= 1). Node = ``poseidon([left, right])``. The path of leaf
``index`` lists its ``depth`` siblings from the leaf level up; at level k the running node is the right
child iff bit k of ``index`` is 1. :func:`verify_path` is what the registry's ``verifyInclusion`` computes
on-chain (same order, same hash), so a consumer can check one leaf against a batch root alone.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence

from .builder import Api, Operand, Var
from .errors import CircuitError
from .field import element
from .poseidon import poseidon, poseidon_gadget

#: Deepest tree supported (2**32 leaves: far beyond what one proof can hold, a sanity bound).
MAX_DEPTH = 32


class MerkleError(CircuitError, ValueError):
    """A tree size, leaf index or path is malformed."""


def tree_depth(size: int) -> int:
    """log2(size) for a power of two size >= 2; MerkleError otherwise."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 2 or size & (size - 1):
        raise MerkleError(f"tree size must be a power of two >= 2, got {size!r}")
    depth = size.bit_length() - 1
    if depth > MAX_DEPTH:
        raise MerkleError(f"tree depth {depth} exceeds {MAX_DEPTH}")
    return depth


def _leaves(leaves: Sequence[int], size: int | None) -> list[int]:
    """Validated leaves padded with zeros to ``size`` (default: their own count, which must be a power of two)."""
    values = [element(_int(x, f"leaf {i}"), f"leaf {i}") for i, x in enumerate(leaves)]
    target = len(values) if size is None else size
    tree_depth(target)
    if len(values) > target:
        raise MerkleError(f"{len(values)} leaves do not fit a tree of {target}")
    return values + [0] * (target - len(values))


def _int(x: object, what: str) -> int:
    if isinstance(x, bool):
        raise MerkleError(f"{what} must be an integer, got bool")
    try:
        return operator.index(x)  # type: ignore[arg-type]
    except TypeError:
        raise MerkleError(f"{what} must be an integer, got {type(x).__name__}") from None


def tree_levels(leaves: Sequence[int], size: int | None = None) -> list[list[int]]:
    """Every level of the tree, leaves (zero-padded to ``size``) first, the root's one-element level last."""
    level = _leaves(leaves, size)
    levels = [level]
    while len(level) > 1:
        level = [poseidon([level[i], level[i + 1]]) for i in range(0, len(level), 2)]
        levels.append(level)
    return levels


def batch_root(leaves: Sequence[int], size: int | None = None) -> int:
    """Root of the tree over ``leaves`` zero-padded to ``size`` (default: len(leaves), a power of two)."""
    return tree_levels(leaves, size)[-1][0]


def merkle_path(leaves: Sequence[int], index: int, size: int | None = None) -> list[int]:
    """Siblings of leaf ``index`` from the leaf level up (``depth`` values)."""
    levels = tree_levels(leaves, size)
    i = _int(index, "leaf index")
    if not 0 <= i < len(levels[0]):
        raise MerkleError(f"leaf index {i} is outside [0, {len(levels[0])})")
    path = []
    for level in levels[:-1]:
        path.append(level[i ^ 1])
        i >>= 1
    return path


def path_root(leaf: int, index: int, path: Sequence[int]) -> int:
    """The root that ``leaf`` at ``index`` with siblings ``path`` hashes up to."""
    node = element(_int(leaf, "leaf"), "leaf")
    i = _int(index, "leaf index")
    if not 1 <= len(path) <= MAX_DEPTH or not 0 <= i < 1 << len(path):
        raise MerkleError(f"leaf index {i} does not fit a path of {len(path)} levels")
    for k, sibling in enumerate(path):
        s = element(_int(sibling, f"path[{k}]"), f"path[{k}]")
        node = poseidon([s, node]) if (i >> k) & 1 else poseidon([node, s])
    return node


def verify_path(leaf: int, index: int, path: Sequence[int], root: int) -> bool:
    """True iff ``leaf`` sits at ``index`` of the tree with ``root`` (path of siblings, leaf level first).

    Malformed input (out-of-field values, an index that does not fit the path) is False, never an error,
    mirroring the on-chain view."""
    try:
        return path_root(leaf, index, path) == _int(root, "root")
    except CircuitError:
        return False


def merkle_root_gadget(api: Api, leaves: Sequence[Operand]) -> Var:
    """In-circuit root over exactly ``len(leaves)`` (a power of two) leaves; equals :func:`batch_root`."""
    tree_depth(len(leaves))
    level = [api.as_var(x) for x in leaves]
    while len(level) > 1:
        level = [poseidon_gadget(api, [level[i], level[i + 1]]) for i in range(0, len(level), 2)]
    return level[0]
