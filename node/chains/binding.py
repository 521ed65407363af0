"""The attestation context: which chain, registry and attester a proof is bound to.

Every zkxai proof carries, as its last public input, ``context`` = keccak256("zkxai.context.v1" (16 bytes) ||
chain id (uint256, 32 bytes) || registry (20 bytes) || attester (20 bytes)) mod r, the value
``contracts/src/AttestationContext.sol`` computes from ``block.chainid``, ``address(this)`` and the sender. The
circuit only carries it, but Groth16 binds every public input, so a proof made for one (chain, registry,
attester) verifies for no other: a copied pending transaction, or a replay at another registry or on another
chain, reverts ``InvalidProof``. Verifiers recompute it from the record's chain, registry and attester.

Chains that do not run the proof check themselves (Aleo, ICP: no BN254 pairing there) record the statement and
its attester; the verifier recomputes their context with :func:`chain_context`, a hash over the chain kind, its
network, the registry (program id / canister id) and the attester as text, and checks the proof off-chain.

Light: keccak from eth-hash (a dependency of web3 / eth-account), no web3 import.
"""

from __future__ import annotations

from eth_hash.auto import keccak

from circuits.field import R

#: Domain tag of the context hash (16 bytes, the Solidity ``bytes16`` constant).
CONTEXT_TAG = b"zkxai.context.v1"


def address_bytes(address: str | bytes, what: str = "address") -> bytes:
    """An Ethereum address as 20 bytes, from ``0x``-hex (any case) or bytes; ValueError otherwise."""
    if isinstance(address, (bytes, bytearray)):
        raw = bytes(address)
    elif isinstance(address, str) and address[:2].lower() == "0x":
        try:
            raw = bytes.fromhex(address[2:])
        except ValueError:
            raise ValueError(f"{what} is not hex: {address!r}") from None
    else:
        raise ValueError(f"{what} must be 0x followed by 40 hex digits, got {address!r}")
    if len(raw) != 20:
        raise ValueError(f"{what} must be 20 bytes, got {len(raw)}")
    return raw


def attestation_context(chain_id: int, registry: str | bytes, attester: str | bytes) -> int:
    """The context public input of a statement attested at ``registry`` by ``attester`` on chain ``chain_id``."""
    if isinstance(chain_id, bool) or not isinstance(chain_id, int) or not 0 <= chain_id < 2**256:
        raise ValueError(f"chain id must be a uint256, got {chain_id!r}")
    packed = CONTEXT_TAG + chain_id.to_bytes(32, "big") + address_bytes(registry, "registry") + address_bytes(
        attester, "attester"
    )
    return int.from_bytes(keccak(packed), "big") % R


def chain_context(chain: str, network: str, registry: str, attester: str) -> int:
    """The context of a statement recorded on a chain without an EVM (``aleo``, ``icp``): keccak256 of
    "zkxai.context.v1/" || chain || 0x00 || network || 0x00 || registry || 0x00 || attester (UTF-8) mod r.

    ``network`` names the chain instance (Aleo ``mainnet`` / ``testnet``, the ICP root key's SHA-256 hex),
    ``registry`` the program id / canister id text, ``attester`` the identity the chain authenticated (for Aleo
    the Ethereum attester address whose signature the program checked; for ICP the caller principal's text)."""
    parts = (chain, network, registry, attester)
    for name, value in zip(("chain", "network", "registry", "attester"), parts):
        if not isinstance(value, str) or not value or "\x00" in value:
            raise ValueError(f"{name} must be a non-empty string without NUL, got {value!r}")
    if chain == "ethereum":
        raise ValueError("Ethereum contexts are attestation_context(chain_id, registry, attester)")
    packed = CONTEXT_TAG + b"/" + b"\x00".join(p.encode() for p in parts)
    return int.from_bytes(keccak(packed), "big") % R
