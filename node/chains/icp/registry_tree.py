"""The registry canister's certified hash tree, mirroring contracts/icp/src/Tree.mo (which documents the shape).

Used by the replica test double (to run the registry's logic) and by the tests (to check the Motoko canister's
certified roots). A reader does not need it: it verifies a witness with :mod:`.hashtree` like any IC tree.
"""

from __future__ import annotations

import hashlib

from node.chains.icp.hashtree import Empty, Fork, HashTree, Labeled, Leaf, Pruned, domain_sep, reconstruct

ROOT_LABEL = b"attestations"


def _h(tag: str, *parts: bytes) -> bytes:
    return hashlib.sha256(domain_sep(tag) + b"".join(parts)).digest()


def index_label(i: int) -> bytes:
    return i.to_bytes(8, "big")


class RecordTree:
    """Node hashes per level; ``set`` appends or replaces one record and rehashes its path (O(log n))."""

    def __init__(self) -> None:
        self.levels: list[list[bytes]] = []
        self.leaves: list[bytes] = []

    def set(self, i: int, record: bytes) -> None:
        if i == len(self.leaves):
            self.leaves.append(record)
        else:
            self.leaves[i] = record
        node = _h("ic-hashtree-labeled", index_label(i), _h("ic-hashtree-leaf", record))
        idx, level = i, 0
        while True:
            if len(self.levels) <= level:
                self.levels.append([])
            row = self.levels[level]
            if idx == len(row):
                row.append(node)
            else:
                row[idx] = node
            if len(row) == 1:
                return
            left = idx - idx % 2
            node = _h("ic-hashtree-fork", row[left], row[left + 1]) if left + 1 < len(row) else row[left]
            idx, level = left // 2, level + 1

    def root(self) -> bytes:
        top = self.levels[-1][0] if self.levels else reconstruct(Empty())
        return _h("ic-hashtree-labeled", ROOT_LABEL, top)

    def witness(self, target: int) -> HashTree:
        def build(level: int, idx: int) -> HashTree:
            if target >> level != idx:
                return Pruned(self.levels[level][idx])
            if level == 0:
                return Labeled(index_label(idx), Leaf(self.leaves[idx]))
            if 2 * idx + 1 >= len(self.levels[level - 1]):
                return build(level - 1, 2 * idx)
            return Fork(build(level - 1, 2 * idx), build(level - 1, 2 * idx + 1))

        return Labeled(ROOT_LABEL, build(len(self.levels) - 1, 0))
