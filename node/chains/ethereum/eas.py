"""zkxai statements as Ethereum Attestation Service (EAS) attestations, checked by ``ZkxaiEASResolver``.

EAS itself (SchemaRegistry + EAS, v1.9.0) is not ours: on a public chain it is already deployed; for local chains
and tests it is deployed from the compiled artifacts shipped in the npm package
``@ethereum-attestation-service/eas-contracts`` (``node_modules``, a dev/CI dependency, not needed by the light
verifier). Our resolver comes from the committed artifacts. Transactions go through
:meth:`EthereumAdapter.send`, so signing, explicit gas limits and revert decoding are the adapter's.

Flow: :func:`deploy_eas` (local chains only) -> :func:`deploy_resolver` -> :func:`register_schema` ->
:func:`attest` with :func:`node.chains.ethereum.calldata.eas_attestation_data`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from eth_abi.packed import encode_packed
from eth_utils import keccak
from web3 import AsyncWeb3

import contracts

from node.chains.ethereum.errors import ContractMismatch
from node.chains.ethereum.adapter import EthereumAdapter

#: The npm package holding EAS's compiled contracts (repository root / node_modules).
EAS_PACKAGE = Path(__file__).resolve().parents[3] / "node_modules" / "@ethereum-attestation-service" / "eas-contracts"
#: EAS release the artifacts must come from (pinned in package.json).
EAS_VERSION = "1.9.0"
#: The zkxai schema (equal to ``ZkxaiEASResolver.SCHEMA``, checked by the tests).
ZKXAI_SCHEMA = (
    "bytes32 modelHash,uint256 inputDigest,uint256 predictionDigest,uint256 predictedClass,"
    "uint256 explanationDigest,uint256[8] proof"
)
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ZERO_UID = b"\x00" * 32

#: Gas limits (explicit, see ``ethereum.py``): measured SchemaRegistry + EAS 4.8 M together, resolver 0.83 M,
#: attest of the zkxai schema 0.46 M without resolver, 0.71 M with it (scripts/gas_report.py).
SCHEMA_REGISTRY_DEPLOY_GAS = 1_500_000
EAS_DEPLOY_GAS = 6_000_000
RESOLVER_DEPLOY_GAS = 1_200_000
REGISTER_GAS = 300_000
EAS_ATTEST_GAS = 1_200_000


class EASArtifactsMissing(ContractMismatch):
    """The EAS npm package (or one of its artifacts) is not installed where expected."""


@dataclass(frozen=True)
class EASContracts:
    """Addresses of an EAS deployment (and the gas of the two deployments)."""

    schema_registry: str
    eas: str
    schema_registry_gas: int = 0
    eas_gas: int = 0


@dataclass(frozen=True)
class DeployedContract:
    """A contract deployed by one mined transaction."""

    address: str
    gas_used: int


@dataclass(frozen=True)
class EASAttestation:
    """A mined EAS ``attest``: the EAS uid and the transaction."""

    uid: bytes
    schema: bytes
    tx_hash: str
    block_number: int
    gas_used: int


@lru_cache(maxsize=None)
def _artifact_text(name: str) -> str:
    manifest = EAS_PACKAGE / "package.json"
    if not manifest.is_file():
        raise EASArtifactsMissing(f"EAS contracts not installed at {EAS_PACKAGE}: run npm ci")
    package = json.loads(manifest.read_text(encoding="utf-8"))
    if package.get("version") != EAS_VERSION:
        raise EASArtifactsMissing(f"EAS contracts {package.get('version')} installed, {EAS_VERSION} expected")
    path = EAS_PACKAGE / "artifacts" / "contracts" / f"{name}.sol" / f"{name}.json"
    if not path.is_file():
        raise EASArtifactsMissing(f"no EAS artifact {path}")
    return path.read_text(encoding="utf-8")


def eas_artifact(name: str) -> dict[str, Any]:
    """Hardhat artifact (``abi``, ``bytecode``) of EAS contract ``name`` (``EAS`` or ``SchemaRegistry``)."""
    if name not in ("EAS", "SchemaRegistry"):
        raise EASArtifactsMissing(f"only EAS and SchemaRegistry are loaded, not {name!r}")
    data: dict[str, Any] = json.loads(_artifact_text(name))
    return data


def schema_uid(schema: str, resolver: str, revocable: bool) -> bytes:
    """EAS schema uid: keccak256(abi.encodePacked(schema, resolver, revocable)) (SchemaRegistry._getUID)."""
    return keccak(encode_packed(["string", "address", "bool"], [schema, resolver, revocable]))


async def _deploy(
    adapter: EthereumAdapter, abi: Any, bytecode: str, args: list[Any], gas: int, what: str
) -> DeployedContract:
    factory = adapter.w3.eth.contract(abi=abi, bytecode=bytecode)
    mined = await adapter.send(None, factory.constructor(*args).data_in_transaction, gas, what)
    if mined.contract_address is None:
        raise ContractMismatch(f"{what}: no contract address in the receipt")
    return DeployedContract(address=mined.contract_address, gas_used=mined.gas_used)


async def deploy_eas(adapter: EthereumAdapter) -> EASContracts:
    """Deploy SchemaRegistry and EAS from the npm artifacts (for local chains; public chains already have them)."""
    reg = eas_artifact("SchemaRegistry")
    schema_registry = await _deploy(
        adapter, reg["abi"], reg["bytecode"], [], SCHEMA_REGISTRY_DEPLOY_GAS, "SchemaRegistry deployment"
    )
    eas = eas_artifact("EAS")
    deployed = await _deploy(
        adapter, eas["abi"], eas["bytecode"], [schema_registry.address], EAS_DEPLOY_GAS, "EAS deployment"
    )
    return EASContracts(
        schema_registry=schema_registry.address,
        eas=deployed.address,
        schema_registry_gas=schema_registry.gas_used,
        eas_gas=deployed.gas_used,
    )


async def deploy_resolver(adapter: EthereumAdapter, eas: str, verifier: str) -> DeployedContract:
    """Deploy a ZkxaiEASResolver serving ``eas`` and checking proofs with ``verifier`` (seven public inputs)."""
    art = contracts.artifact("ZkxaiEASResolver")
    return await _deploy(
        adapter,
        art["abi"],
        art["bytecode"],
        [AsyncWeb3.to_checksum_address(eas), AsyncWeb3.to_checksum_address(verifier)],
        RESOLVER_DEPLOY_GAS,
        "resolver deployment",
    )


async def register_schema(
    adapter: EthereumAdapter, schema_registry: str, schema: str, resolver: str = ZERO_ADDRESS, revocable: bool = True
) -> bytes:
    """Register ``schema`` (with ``resolver``, the zero address for none); returns its uid."""
    reg = adapter.w3.eth.contract(
        address=AsyncWeb3.to_checksum_address(schema_registry), abi=eas_artifact("SchemaRegistry")["abi"]
    )
    resolver = AsyncWeb3.to_checksum_address(resolver)
    data = reg.encode_abi("register", args=[schema, resolver, revocable])
    mined = await adapter.send(reg.address, data, REGISTER_GAS, "schema registration")
    uid = schema_uid(schema, resolver, revocable)
    events = reg.events.Registered().process_receipt(mined.receipt)
    if len(events) != 1 or bytes(events[0]["args"]["uid"]) != uid:
        raise ContractMismatch("SchemaRegistry did not emit the expected Registered event")
    return uid


async def attest(
    adapter: EthereumAdapter,
    eas: str,
    schema: bytes,
    data: bytes,
    *,
    recipient: str = ZERO_ADDRESS,
    revocable: bool = True,
    gas: int = EAS_ATTEST_GAS,
) -> EASAttestation:
    """Attest ``data`` under schema uid ``schema`` through EAS (no expiration, no reference, no value).
    A resolver rejection surfaces as its typed error (e.g. ProofRejected for ``InvalidProof``)."""
    contract = adapter.w3.eth.contract(address=AsyncWeb3.to_checksum_address(eas), abi=eas_artifact("EAS")["abi"])
    request = (bytes(schema), (AsyncWeb3.to_checksum_address(recipient), 0, revocable, ZERO_UID, bytes(data), 0))
    call = contract.encode_abi("attest", args=[request])
    mined = await adapter.send(contract.address, call, gas, "EAS attest")
    events = contract.events.Attested().process_receipt(mined.receipt)
    if len(events) != 1 or bytes(events[0]["args"]["schemaUID"]) != bytes(schema):
        raise ContractMismatch("EAS did not emit the expected Attested event")
    return EASAttestation(
        uid=bytes(events[0]["args"]["uid"]),
        schema=bytes(schema),
        tx_hash=mined.tx_hash,
        block_number=mined.block_number,
        gas_used=mined.gas_used,
    )


async def get_attestation(adapter: EthereumAdapter, eas: str, uid: bytes) -> dict[str, Any]:
    """EAS's stored attestation ``uid`` as a dict (uid, schema, time, ..., attester, revocable, data)."""
    contract = adapter.w3.eth.contract(address=AsyncWeb3.to_checksum_address(eas), abi=eas_artifact("EAS")["abi"])
    names = ("uid", "schema", "time", "expirationTime", "revocationTime", "refUID", "recipient", "attester",
             "revocable", "data")
    raw = await contract.functions.getAttestation(bytes(uid)).call()
    return dict(zip(names, raw, strict=True))
