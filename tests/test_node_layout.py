"""node/ by role, enforced: imports go one way (cli -> api -> pipeline -> store -> verify -> chains -> leaves), a chain
subpackage never imports another chain's, and the pipeline, the store and the API know chains only through the
adapter contract (:mod:`node.chains.adapter`): the one factory (:mod:`node.api.chain_targets`) is the only module
outside ``node/chains/<chain>/`` that names a concrete chain, and the third-party verifier (:mod:`node.verify`)
imports only a chain's reader side (record readers, wire formats, trust roots), never a writer.

Static (the source's import statements, functions' local imports included), plus the contract's capabilities as
the chains declare them: Ethereum supports batches, deploys its registries and revokes models; Aleo and ICP refuse
batch mode with a typed error naming the chain.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NODE = ROOT / "node"
ORDER = ("cli", "api", "pipeline", "store", "verify", "chains", "leaf")
CHAINS = ("ethereum", "aleo", "icp")
#: The one module outside node/chains/<chain>/ that builds concrete adapters from the configuration.
FACTORY = "node.api.chain_targets"
#: What node.verify may import of a chain: its reader side (module -> names; "*" for any name of a module that
#: holds no writer). Writers (EthereumAdapter, EthereumChain, BatchSubmitter, AleoAdapter, IcpAdapter, keystores,
#: transaction managers) are not here.
VERIFY_READERS: dict[str, frozenset[str] | str] = {
    "node.chains.ethereum.calldata": "*",
    "node.chains.ethereum.errors": "*",
    "node.chains.ethereum.light_reader": "*",
    "node.chains.ethereum.reader": "*",
    "node.chains.icp.agent": frozenset({"IcAgent"}),
    "node.chains.icp.der": "*",
    "node.chains.icp.errors": "*",
    "node.chains.icp.principal": "*",
    "node.chains.icp.root_key": "*",
    "node.chains.icp.adapter": frozenset({"IcpReader", "network_of"}),
    "node.chains.aleo.statement": "*",
    "node.chains.aleo.adapter": frozenset({"AleoReader"}),
}


def _modules() -> list[tuple[str, ast.Module]]:
    out = []
    for path in sorted(NODE.rglob("*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        out.append((name, ast.parse(path.read_text(), str(path))))
    return out


def _imports(tree: ast.Module) -> list[tuple[str, tuple[str, ...]]]:
    """(module, names) of every absolute ``from node... import`` and ``import node...`` in ``tree``."""
    found: list[tuple[str, tuple[str, ...]]] = []
    for n in ast.walk(tree):
        if isinstance(n, ast.ImportFrom) and n.module and not n.level and n.module.startswith("node"):
            found.append((n.module, tuple(a.name for a in n.names)))
        elif isinstance(n, ast.Import):
            found += [(a.name, ()) for a in n.names if a.name.startswith("node")]
    return found


def _role(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) >= 2 and parts[1] in ORDER else "leaf"


def _chain(module: str) -> str | None:
    parts = module.split(".")
    return parts[2] if len(parts) >= 3 and parts[1] == "chains" and parts[2] in CHAINS else None


def test_imports_go_one_way() -> None:
    bad = []
    for name, tree in _modules():
        for target, _ in _imports(tree):
            if target == "node":
                continue
            a, b = _role(name), _role(target)
            if ORDER.index(b) < ORDER.index(a) or (a == "leaf" and b != "leaf"):
                bad.append(f"{name} ({a}) -> {target} ({b})")
            ca, cb = _chain(name), _chain(target)
            if ca is not None and cb is not None and ca != cb:
                bad.append(f"{name} -> {target} (another chain)")
    assert not bad, "imports against the role order:\n" + "\n".join(sorted(set(bad)))


def test_only_the_factory_names_a_concrete_chain() -> None:
    bad = []
    for name, tree in _modules():
        role = _role(name)
        if role in ("chains", "leaf", "cli") or name == FACTORY:
            continue
        for target, names in _imports(tree):
            if _chain(target) is None and target not in {f"node.chains.{c}" for c in CHAINS}:
                continue
            if role == "verify":
                allowed = VERIFY_READERS.get(target)
                if allowed == "*" or (isinstance(allowed, frozenset) and names and set(names) <= allowed):
                    continue
            bad.append(f"{name} imports {target} ({', '.join(names) or 'module'})")
    assert not bad, "only the adapter contract outside node/chains/<chain>/ (and the factory):\n" + "\n".join(bad)


def test_the_factory_is_the_only_api_module_naming_a_chain() -> None:
    factory = dict(_modules())[FACTORY]
    assert {_chain(t) for t, _ in _imports(factory)} >= {"ethereum", "aleo", "icp"}


def test_aleo_and_icp_refuse_batch_mode_naming_the_chain() -> None:
    from node.chains.adapter import BatchesUnsupported, ChainAdapter, batch_chain
    from node.chains.aleo.adapter import AleoAdapter
    from node.chains.icp.adapter import IcpAdapter
    from node.chains.icp.agent import IcAgent
    from node.chains.icp.identity import Ed25519Identity
    from node.chains.icp.root_key import MAINNET_ROOT_KEY_DER

    assert AleoAdapter.supports_batches is False and IcpAdapter.supports_batches is False
    icp = IcpAdapter(IcAgent("http://127.0.0.1:9", MAINNET_ROOT_KEY_DER, Ed25519Identity.generate()))
    assert isinstance(icp, ChainAdapter)
    with pytest.raises(BatchesUnsupported, match="icp chain does not support batch mode"):
        batch_chain(icp)


@pytest.mark.asyncio
async def test_ethereum_implements_every_capability() -> None:
    from node.chains.adapter import (
        BatchModelRevoking,
        ChainAdapter,
        DeployingChain,
        ModelRevoking,
        PrimaryChain,
        batch_chain,
    )
    from node.chains.ethereum.adapter import EthereumAdapter
    from node.chains.ethereum.chain import EthereumChain

    chain = EthereumChain(await EthereumAdapter.in_process())
    try:
        assert chain.supports_batches and batch_chain(chain) is chain
        for capability in (ChainAdapter, DeployingChain, PrimaryChain, ModelRevoking, BatchModelRevoking):
            assert isinstance(chain, capability), capability.__name__
        assert chain.embedded and chain.network.isdigit()
        assert len(await chain.genesis()) == 66 and await chain.height() >= 0
    finally:
        await chain.close()
