"""The IC's certified hash tree: node types, decoding from CBOR, root-hash reconstruction and path lookup.

Per the IC interface specification (Certification): ``reconstruct`` hashes with SHA-256 under the domain
separators ``ic-hashtree-empty|fork|labeled|leaf`` (``domain_sep(s) = byte(len(s)) · s``), a pruned node
contributes its hash as is; ``lookup_path`` answers Found / Absent / Unknown / Error exactly as the spec's
``lookup_path`` and ``find_label`` (Absent is only claimed where the visible labels prove it).
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Union

from node.chains.icp.errors import HashTreeError


def domain_sep(name: str) -> bytes:
    raw = name.encode("ascii")
    return bytes([len(raw)]) + raw


_EMPTY = domain_sep("ic-hashtree-empty")
_FORK = domain_sep("ic-hashtree-fork")
_LABELED = domain_sep("ic-hashtree-labeled")
_LEAF = domain_sep("ic-hashtree-leaf")


@dataclass(frozen=True)
class Empty:
    pass


@dataclass(frozen=True)
class Fork:
    left: HashTree
    right: HashTree


@dataclass(frozen=True)
class Labeled:
    label: bytes
    subtree: HashTree


@dataclass(frozen=True)
class Leaf:
    value: bytes


@dataclass(frozen=True)
class Pruned:
    digest: bytes


HashTree = Union[Empty, Fork, Labeled, Leaf, Pruned]


def from_cbor(value: Any) -> HashTree:
    """Build a tree from its decoded CBOR form ``[0] | [1,l,r] | [2,label,t] | [3,value] | [4,hash32]``.

    The depth is bounded by the CBOR decoder that produced ``value``.
    """
    if not isinstance(value, list) or not value or not isinstance(value[0], int) or isinstance(value[0], bool):
        raise HashTreeError("hash tree node must be a non-empty array starting with its type (0..4)")
    kind, args = value[0], value[1:]
    shape = {0: (), 1: (list, list), 2: (bytes, list), 3: (bytes,), 4: (bytes,)}.get(kind)
    if shape is None:
        raise HashTreeError(f"unknown hash tree node type {kind}")
    if len(args) != len(shape) or not all(isinstance(a, t) for a, t in zip(args, shape)):
        raise HashTreeError(f"hash tree node of type {kind} has the wrong arguments")
    if kind == 0:
        return Empty()
    if kind == 1:
        return Fork(from_cbor(args[0]), from_cbor(args[1]))
    if kind == 2:
        return Labeled(args[0], from_cbor(args[1]))
    if kind == 3:
        return Leaf(args[0])
    if len(args[0]) != 32:
        raise HashTreeError(f"pruned hash of {len(args[0])} bytes, expected 32")
    return Pruned(args[0])


def to_cbor(tree: HashTree) -> list:
    """The CBOR form of a tree (the inverse of :func:`from_cbor`)."""
    if isinstance(tree, Empty):
        return [0]
    if isinstance(tree, Fork):
        return [1, to_cbor(tree.left), to_cbor(tree.right)]
    if isinstance(tree, Labeled):
        return [2, tree.label, to_cbor(tree.subtree)]
    if isinstance(tree, Leaf):
        return [3, tree.value]
    return [4, tree.digest]


def reconstruct(tree: HashTree) -> bytes:
    """The root hash of ``tree``."""
    if isinstance(tree, Fork):
        return hashlib.sha256(_FORK + reconstruct(tree.left) + reconstruct(tree.right)).digest()
    if isinstance(tree, Labeled):
        return hashlib.sha256(_LABELED + tree.label + reconstruct(tree.subtree)).digest()
    if isinstance(tree, Leaf):
        return hashlib.sha256(_LEAF + tree.value).digest()
    if isinstance(tree, Pruned):
        return tree.digest
    if isinstance(tree, Empty):
        return hashlib.sha256(_EMPTY).digest()
    raise HashTreeError(f"not a hash tree node: {type(tree).__name__}")


class LookupStatus(enum.Enum):
    FOUND = "found"
    ABSENT = "absent"
    UNKNOWN = "unknown"
    ERROR = "error"


@dataclass(frozen=True)
class Lookup:
    status: LookupStatus
    value: bytes | None = None  # the leaf when FOUND
    subtree: HashTree | None = None  # the node reached when FOUND (by lookup_subtree)


_ABSENT = Lookup(LookupStatus.ABSENT)
_UNKNOWN = Lookup(LookupStatus.UNKNOWN)
_ERROR = Lookup(LookupStatus.ERROR)


def flatten_forks(tree: HashTree) -> list[HashTree]:
    out: list[HashTree] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, Fork):
            stack.append(node.right)
            stack.append(node.left)
        elif not isinstance(node, Empty):
            out.append(node)
    return out


def find_label(label: bytes, trees: list[HashTree]) -> Lookup:
    """The spec's ``find_label`` over a flattened forest."""
    for node in trees:
        if isinstance(node, Labeled) and node.label == label:
            return Lookup(LookupStatus.FOUND, subtree=node.subtree)
    for index in range(len(trees) - 1):
        a, b = trees[index], trees[index + 1]
        if isinstance(a, Labeled) and isinstance(b, Labeled) and a.label < label < b.label:
            return _ABSENT
    if trees and isinstance(trees[0], Labeled) and label < trees[0].label:
        return _ABSENT
    if trees and isinstance(trees[-1], Labeled) and trees[-1].label < label:
        return _ABSENT
    if len(trees) == 1 and isinstance(trees[0], Leaf):
        return _ABSENT
    if not trees:
        return _ABSENT
    return _UNKNOWN


def _label(part: bytes | str) -> bytes:
    return part.encode("utf-8") if isinstance(part, str) else bytes(part)


def lookup_subtree(path: Sequence[bytes | str], tree: HashTree) -> Lookup:
    """Follow ``path`` (labels; ``str`` is UTF-8 encoded) and return the node reached, or why not."""
    node = tree
    for part in path:
        found = find_label(_label(part), flatten_forks(node))
        if found.status is not LookupStatus.FOUND:
            return found
        node = found.subtree  # type: ignore[assignment]
    return Lookup(LookupStatus.FOUND, subtree=node)


def lookup_path(path: Sequence[bytes | str], tree: HashTree) -> Lookup:
    """The spec's ``lookup_path``: FOUND with the leaf's value, ABSENT, UNKNOWN (pruned), or ERROR."""
    reached = lookup_subtree(path, tree)
    if reached.status is not LookupStatus.FOUND:
        return reached
    node = reached.subtree
    if isinstance(node, Leaf):
        return Lookup(LookupStatus.FOUND, value=node.value, subtree=node)
    if isinstance(node, Empty):
        return _ABSENT
    if isinstance(node, Pruned):
        return _UNKNOWN
    return _ERROR


def labeled_leaves(tree: HashTree) -> Iterator[tuple[bytes, bytes]]:
    """The ``(label, value)`` of each labeled leaf directly under ``tree`` (the visible part of ``lookup*``)."""
    for node in flatten_forks(tree):
        if isinstance(node, Labeled) and isinstance(node.subtree, Leaf):
            yield node.label, node.subtree.value
