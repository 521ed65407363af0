"""Attacks on who stands behind an attestation, on anvil with real Groth16 proofs (issue 10).

Before proofs were bound to their context (chain id, registry, attester: ``node.chains.binding``), each of these worked:
copying a pending ``attest`` with a higher tip made the attacker the record's attester (and the one allowed to
revoke it), the same proof was accepted by any other registry on the same key and on any other chain, and the node
adopted whatever record held its statement id. Now the registry recomputes the context from ``block.chainid``,
``address(this)`` and ``msg.sender``, so each copy reverts ``InvalidProof``, and the node reports a record of its
statement by another account instead of adopting it. The tiny circuit proves anything (tests/contracts_tiny_circuit),
which is exactly an attacker's position: with it the binding is the only thing that can stop these attacks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
import pytest_asyncio
from eth_account import Account
from eth_utils import keccak
from web3 import Web3

import contracts
from contracts_tiny_circuit import TinyKeys, bound_public, tiny_keys
from node.chains.binding import attestation_context
from node.chains.ethereum import calldata
from node.chains.ethereum.errors import (
    ForeignAttestation,
    NotAuthorized,
    ProofRejected,
)
from node.chains.ethereum.adapter import (
    Deployment,
    EthereumAdapter,
    RevocationReason,
)
from tests.node_harness import ANVIL_KEY, anvil_rpc, automine_off, pending_txs, running_anvil, wait_for

#: anvil's second default account: the attacker (pre-funded on every anvil chain).
ATTACKER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
MODEL = keccak(b"victim model")

pytestmark = [pytest.mark.npm, pytest.mark.asyncio(loop_scope="module")]


@dataclass(frozen=True)
class Chain:
    url: str
    w3: Web3
    node: EthereumAdapter
    attacker: EthereumAdapter
    keys: TinyKeys
    deployment: Deployment


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def chain(anvil_url: str) -> AsyncIterator[Chain]:
    node = await EthereumAdapter.connect(anvil_url, ANVIL_KEY)
    keys = tiny_keys()
    deployment = await node.deploy_registry(keys.vk_calldata())
    attacker = await EthereumAdapter.connect(anvil_url, ATTACKER_KEY, registry=deployment.registry)
    yield Chain(anvil_url, Web3(Web3.HTTPProvider(anvil_url)), node, attacker, keys, deployment)
    await attacker.close()
    await node.close()


@pytest.fixture
def manual_mining(chain: Chain) -> Iterator[None]:
    with automine_off(chain.w3):
        yield



async def test_the_registry_computes_the_same_context_as_the_node(chain: Chain) -> None:
    registry = chain.w3.eth.contract(address=chain.deployment.registry, abi=contracts.abi("AttestationRegistry"))
    chain_id = chain.w3.eth.chain_id
    for who in (chain.node.address, chain.attacker.address, "0x" + "00" * 20):
        onchain = registry.functions.attestationContext(Web3.to_checksum_address(who)).call()
        assert onchain == attestation_context(chain_id, chain.deployment.registry, who)
    assert attestation_context(chain_id, chain.deployment.registry, chain.node.address) != attestation_context(
        chain_id + 1, chain.deployment.registry, chain.node.address)


async def test_front_running_a_pending_attestation_fails(chain: Chain, manual_mining: None) -> None:
    """The attacker copies the node's pending ``attest`` calldata and outbids it: mined first, it reverts
    InvalidProof; the node's own transaction in the same block makes the record, with the node as attester."""
    w3, fields = chain.w3, (MODEL, 501, 502, 3, 504)
    task = asyncio.create_task(chain.node.attest(*fields, *chain.keys.attestation_proof(fields, chain.node)))
    pending = await wait_for(lambda: next(iter(pending_txs(w3, chain.node.address).values()), None))
    copied = {
        "to": Web3.to_checksum_address(pending["to"]), "data": pending["input"], "gas": int(pending["gas"], 16), "type": 2,
        "maxFeePerGas": 2 * int(pending["maxFeePerGas"], 16),
        "maxPriorityFeePerGas": 2 * int(pending["maxPriorityFeePerGas"], 16) + 1,
        "nonce": w3.eth.get_transaction_count(chain.attacker.address, "pending"), "chainId": w3.eth.chain_id,
    }
    front = w3.eth.send_raw_transaction(Account.from_key(ATTACKER_KEY).sign_transaction(copied).raw_transaction)
    anvil_rpc(w3, "evm_mine")
    sent = await asyncio.wait_for(task, 60)

    theirs, ours = w3.eth.get_transaction_receipt(front), w3.eth.get_transaction_receipt(sent.tx_hash)
    assert theirs["blockNumber"] == ours["blockNumber"] and theirs["transactionIndex"] < ours["transactionIndex"]
    assert theirs["status"] == 0 and ours["status"] == 1  # the copy ran first and failed the proof check
    registry = w3.eth.contract(address=chain.deployment.registry, abi=contracts.abi("AttestationRegistry"))
    record = registry.functions.getAttestation(sent.id).call()
    assert record[1] == chain.node.address
    anvil_rpc(w3, "evm_setAutomine", True)
    chain.attacker._nonce = None  # its copy was signed outside the adapter
    with pytest.raises(NotAuthorized):  # and the attacker cannot revoke what it does not own
        await chain.attacker.revoke(sent.id, RevocationReason.KEY_COMPROMISED)
    # a copy of a proof made for the node, sent through the attacker's adapter (revert decoded): InvalidProof
    fresh = (MODEL, 601, 602, 3, 604)
    with pytest.raises(ProofRejected):
        await chain.attacker.attest(*fresh, *chain.keys.attestation_proof(fresh, chain.node))


async def test_replay_at_another_registry_fails(chain: Chain) -> None:
    """A second registry on the same verifier (same key) refuses a proof made for the first, even from the same
    attester; a proof made for it is accepted (the control)."""
    art = contracts.artifact("AttestationRegistry")
    factory = chain.w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"])
    data = factory.constructor(chain.deployment.verifier).data_in_transaction
    mined = await chain.attacker.send(None, data, 2_000_000, "deploy a second registry")
    other = EthereumAdapter(chain.node.w3, chain.node.account, chain.node.chain_id)
    other._nonce = None
    await other.attach_registry(str(mined.contract_address))
    try:
        fields = (MODEL, 701, 702, 3, 704)
        made_for_first = chain.keys.attestation_proof(fields, chain.node)
        with pytest.raises(ProofRejected):
            await other.attest(*fields, *made_for_first)
        done = await other.attest(*fields, *chain.keys.attestation_proof(fields, other))
        assert done.attester == chain.node.address
    finally:
        chain.node._nonce = None  # the two adapters share the account: re-read the nonce


async def test_replay_on_another_chain_fails(chain: Chain) -> None:
    """Same deployer and nonce on a chain with another id give the same registry address: only the chain id in the
    context tells them apart, and it does."""
    with running_anvil(chain_id=4242) as url:
        node = await EthereumAdapter.connect(url, ANVIL_KEY)
        try:
            keys = tiny_keys()
            deployment = await node.deploy_registry(keys.vk_calldata())
            assert deployment.registry == chain.deployment.registry  # same address, other chain
            fields = (MODEL, 801, 802, 3, 804)
            with pytest.raises(ProofRejected):
                await node.attest(*fields, *keys.proof(bound_public(fields, chain.node)))  # made for chain 31337
            await node.attest(*fields, *keys.attestation_proof(fields, node))
        finally:
            await node.close()


async def test_a_record_by_another_account_is_reported_not_adopted(chain: Chain) -> None:
    """Anyone can attest anything they can prove; the node never takes such a record of its statement for its own."""
    fields = (MODEL, 901, 902, 3, 904)
    theirs = await chain.attacker.attest(*fields, *chain.keys.attestation_proof(fields, chain.attacker))
    found = await chain.node.find_attestation(theirs.id)
    assert found is not None and found.attester == chain.attacker.address
    with pytest.raises(ForeignAttestation) as info:
        await chain.node.find_own_attestation(theirs.id)
    assert chain.attacker.address in str(info.value)
    with pytest.raises(ForeignAttestation):
        await chain.node.attest_confirmed(*fields, *chain.keys.attestation_proof(fields, chain.node))
    assert calldata.attestation_id(*fields) == theirs.id
