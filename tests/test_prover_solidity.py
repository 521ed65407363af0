"""The generated Solidity verifier compiles with solc-js (cancun) and, on eth-tester (py-evm),
accepts an honest proof and rejects a wrong public input / an input >= r. Few EVM calls: each
pairing precompile call costs ~0.5 s in py-evm."""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest

from circuits.r1cs import R1CS, Constraint
from prover import prove, setup
from prover.fields import R
from prover.solidity import proof_calldata, solidity_verifier, vk_calldata

pytestmark = pytest.mark.npm

ROOT = Path(__file__).resolve().parents[1]
COMPILE_JS = (
    "const solc=require('solc');let s='';process.stdin.on('data',d=>s+=d);"
    "process.stdin.on('end',()=>process.stdout.write(solc.compile(s)));"
)
GAS = 3_000_000


def compile_contract(source: str, name: str) -> dict[str, Any]:
    assert (ROOT / "node_modules" / "solc").is_dir(), "solc-js missing: run npm ci"
    std = {
        "language": "Solidity",
        "sources": {"V.sol": {"content": source}},
        "settings": {
            "evmVersion": "cancun",
            "optimizer": {"enabled": True, "runs": 200},
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
        },
    }
    res = subprocess.run(
        ["node", "-e", COMPILE_JS], input=json.dumps(std), cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    errors = [e for e in out.get("errors", []) if e["severity"] == "error"]
    assert not errors, errors
    return out["contracts"]["V.sol"][name]  # type: ignore[no-any-return]


def test_generated_verifier_on_evm() -> None:
    from web3 import EthereumTesterProvider, Web3

    r1 = R1CS(4, 1, (Constraint({2: 1}, {3: 1}, {1: 1}),), ("z",), {})
    pk, vk = setup(r1, rng=random.Random(9))
    proof = prove(pk, r1, [1, 35, 5, 7])
    art = compile_contract(solidity_verifier(vk, "ZkxaiTestVerifier"), "ZkxaiTestVerifier")

    w3 = Web3(EthereumTesterProvider())
    acct = w3.eth.accounts[0]
    factory = w3.eth.contract(abi=art["abi"], bytecode=art["evm"]["bytecode"]["object"])
    tx = factory.constructor().transact({"from": acct, "gas": GAS})
    address = w3.eth.get_transaction_receipt(tx)["contractAddress"]
    verifier = w3.eth.contract(address=address, abi=art["abi"])
    a, b, c = proof_calldata(proof)
    assert verifier.functions.verifyProof(a, b, c, [35]).call({"gas": GAS}) is True
    assert verifier.functions.verifyProof(a, b, c, [36]).call({"gas": GAS}) is False
    # x + r aliases 35 mod r: must be rejected by the range check (no pairing is run)
    assert verifier.functions.verifyProof(a, b, c, [35 + R]).call({"gas": GAS}) is False


def test_calldata_order() -> None:
    r1 = R1CS(4, 1, (Constraint({2: 1}, {3: 1}, {1: 1}),), ("z",), {})
    pk, vk = setup(r1, rng=random.Random(9))
    proof = prove(pk, r1, [1, 35, 5, 7], rng=random.Random(1))
    a, b, c = proof_calldata(proof)
    (x0, x1), (y0, y1) = proof.b
    assert a == list(proof.a) and c == list(proof.c)
    assert b == [[x1, x0], [y1, y0]]
    alpha, beta, gamma, delta, ic = vk_calldata(vk)
    assert alpha == list(vk.alpha_g1) and len(ic) == 2
    assert beta == [[vk.beta_g2[0][1], vk.beta_g2[0][0]], [vk.beta_g2[1][1], vk.beta_g2[1][0]]]
    assert gamma[0][1] == vk.gamma_g2[0][0] and delta[1][0] == vk.delta_g2[1][1]
