"""Extras never pull both ``onnxruntime`` and ``onnxruntime-gpu`` (the two wheels install the same module).

Checked statically from pyproject.toml: every extra alone, every set of extras that does not combine two node
profiles, every combination the repository tells users to install (``zkxai[...]`` / ``.[...]`` in the README,
scripts and CI), and the installed dependency closure of each extra (no dependency brings a runtime in through
the back door).
"""

from __future__ import annotations

import importlib.metadata as md
import itertools
import re
import tomllib

from packaging.markers import Marker
from packaging.requirements import Requirement

from tests.node_harness import ROOT

RUNTIMES = {"onnxruntime", "onnxruntime-gpu"}
NODE_PROFILES = {"node": "onnxruntime", "node-gpu": "onnxruntime-gpu"}
DOCUMENTS = ("README.md", "scripts/bootstrap", "scripts/test", "scripts/demo", ".ci/run")
_COMBO = re.compile(r"(?:zkxai|\.)\[([A-Za-z0-9_,\- ]+)\]")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _extras() -> dict[str, set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {_norm(k): {_norm(Requirement(r).name) for r in v} for k, v in project["optional-dependencies"].items()}


def _pulled(extras: dict[str, set[str]], combo: tuple[str, ...]) -> set[str]:
    return set().union(*(extras.get(_norm(e), set()) for e in combo))


def _documented_combos() -> dict[str, tuple[str, ...]]:
    found: dict[str, tuple[str, ...]] = {}
    for doc in DOCUMENTS:
        path = ROOT / doc
        if path.exists():
            for m in _COMBO.finditer(path.read_text()):
                found[f"{doc}: {m.group(0)}"] = tuple(e.strip() for e in m.group(1).split(",") if e.strip())
    return found


def test_each_node_profile_has_exactly_its_runtime_and_they_differ_only_there() -> None:
    extras = _extras()
    for profile, runtime in NODE_PROFILES.items():
        assert extras[profile] & RUNTIMES == {runtime}, profile
    assert extras["node"] - {"onnxruntime"} == extras["node-gpu"] - {"onnxruntime-gpu"}
    others = [name for name, deps in extras.items() if deps & RUNTIMES and name not in NODE_PROFILES]
    assert not others, f"only the node profiles may bring an onnxruntime: {others}"


def test_no_allowed_combination_pulls_both_runtimes() -> None:
    extras = _extras()
    names = sorted(extras)
    for size in range(1, len(names) + 1):
        for combo in itertools.combinations(names, size):
            if set(NODE_PROFILES) <= set(combo):
                continue  # the two profiles are alternatives (README); checked to conflict below
            assert not RUNTIMES <= _pulled(extras, combo), combo
    assert RUNTIMES <= _pulled(extras, tuple(NODE_PROFILES)), "the profiles are alternatives because they conflict"


def test_documented_combinations_exist_and_never_pull_both() -> None:
    extras = _extras()
    combos = _documented_combos()
    assert any("scripts/bootstrap" in where for where in combos), "the bootstrap's install line was not found"
    for where, combo in combos.items():
        assert not RUNTIMES <= _pulled(extras, combo), where
        assert not set(NODE_PROFILES) <= {_norm(e) for e in combo}, where
        if not where.startswith("README.md"):
            missing = [e for e in combo if _norm(e) not in extras]
            assert not missing, f"{where}: no such extra {missing}"


def _closure(roots: set[str]) -> set[str]:
    """Names reachable from ``roots`` through installed distributions' unconditional requirements."""
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = md.requires(name) or []
        except md.PackageNotFoundError:
            continue
        for line in requires:
            req = Requirement(line)
            if req.marker is None or Marker(str(req.marker)).evaluate({"extra": ""}):
                todo.append(_norm(req.name))
    return seen


def test_installed_dependencies_bring_no_runtime_of_their_own() -> None:
    extras = _extras()
    for name, deps in extras.items():
        pulled = _closure(deps - RUNTIMES) & RUNTIMES
        assert not pulled, f"{name}: a dependency pulls {pulled}"
