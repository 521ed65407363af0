"""What the Aleo program hashes and what the attester signs, computed in Python exactly as the program does.

Conventions (the program ``contracts/aleo/zkxai_registry.aleo`` uses the same; ``tests/test_aleo_program.py``
checks equality through the SDK's evaluation of the transitions):

* a 256-bit number (model hash, the three digests) is two ``u128`` limbs ``[hi, lo]``;
* a "raw" message is an array of ``u128`` hashed with ``hash.keccak256.native.raw``: the bits of each limb in
  little-endian order, so the hashed bytes are each limb's 16 little-endian bytes, and the 256 output bits read
  back by ``deserialize.bits.raw`` are the Keccak-256 digest bytes (as ``[u128; 2]``: bytes 0..15 and 16..31, each
  little-endian; as ``[u8; 32]``: the digest bytes);
* **statement id** = Keccak-256(``"zkxai.aleo.stmt1"`` || model hash hi, lo || input hi, lo || prediction hi, lo
  || class || explanation hi, lo) over those 16-byte limbs (160 bytes); the mapping key is that digest read as a
  little-endian integer modulo the Aleo base field (``key = id_lo + id_hi * 2^128`` computed in ``field``);
* **proof keccak** = Keccak-256 of the eight proof words as 32-byte big-endian integers (EIP-197 order), the same
  as Solidity's ``keccak256(abi.encodePacked(uint256[8]))``;
* the attester signs, with Ethereum's ``personal_sign`` (EIP-191: ``"\\x19Ethereum Signed Message:\\n32"`` ||
  digest), **attest digest** = Keccak-256(``"zkxai.aleo.att.1"`` || program tag || network id || id limbs || proof
  keccak limbs) and **revoke digest** = Keccak-256(``"zkxai.aleo.rev.1"`` || program tag || network id || id limbs
  || reason); the program tag is the first 16 bytes of Keccak-256 of the program id, the network id Aleo's
  (mainnet 0, testnet 1, canary 2; ``finalize`` checks it against ``network.id``).

Light: eth-hash and eth-account only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_hash.auto import keccak

from node.chains.binding import address_bytes
from node.chains.adapter import Statement

#: The program id of the registry this package speaks to (the ``program`` line of the committed source).
PROGRAM_ID = "zkxai_registry_v1.aleo"
#: Aleo's base field modulus (the scalar field of BLS12-377); ``field`` arithmetic in programs is modulo this.
ALEO_FIELD = 8444461749428370424248824938781546531375899335154063827935233455917409239041
#: Aleo network ids (``network.id`` in finalize) by the names the REST API uses in its paths.
NETWORK_IDS = {"mainnet": 0, "testnet": 1, "canary": 2}

STATEMENT_TAG = b"zkxai.aleo.stmt1"
ATTEST_TAG = b"zkxai.aleo.att.1"
REVOKE_TAG = b"zkxai.aleo.rev.1"
EIP191_PREFIX_32 = b"\x19Ethereum Signed Message:\n32"

_U128 = 2**128


def tag_limb(tag: bytes) -> int:
    """A 16-byte tag as the ``u128`` whose little-endian bytes are the tag (a literal in the program)."""
    if len(tag) != 16:
        raise ValueError("a tag is 16 bytes")
    return int.from_bytes(tag, "little")


def program_tag(program_id: str = PROGRAM_ID) -> int:
    """The ``u128`` literal binding signatures to one program id: the first 16 digest bytes, little-endian."""
    return int.from_bytes(keccak(program_id.encode())[:16], "little")


def network_id(network: str) -> int:
    try:
        return NETWORK_IDS[network]
    except KeyError:
        raise ValueError(f"unknown Aleo network {network!r} (one of {sorted(NETWORK_IDS)})") from None


def limbs(value: int | bytes, what: str = "value") -> tuple[int, int]:
    """A 256-bit number (or 32 big-endian bytes) as ``[hi, lo]`` u128 limbs."""
    if isinstance(value, (bytes, bytearray)):
        if len(value) != 32:
            raise ValueError(f"{what} must be 32 bytes, got {len(value)}")
        value = int.from_bytes(value, "big")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**256:
        raise ValueError(f"{what} must be a 256-bit unsigned integer")
    return value >> 128, value & (_U128 - 1)


def raw_bytes(words: Sequence[int]) -> bytes:
    """The bytes ``hash.keccak256.native.raw`` hashes for a ``[u128; n]`` array."""
    return b"".join(w.to_bytes(16, "little") for w in words)


def digest_limbs(digest: bytes) -> tuple[int, int]:
    """A 32-byte digest as ``deserialize.bits.raw`` reads it into ``[u128; 2]``."""
    return int.from_bytes(digest[:16], "little"), int.from_bytes(digest[16:], "little")


def statement_words(statement: Statement) -> list[int]:
    """The ``[u128; 10]`` array the statement id is the Keccak-256 of."""
    if not 0 <= statement.predicted_class < 2**32:
        raise ValueError("predicted class must be a u32")
    return [
        tag_limb(STATEMENT_TAG),
        *limbs(bytes(statement.model_hash), "model hash"),
        *limbs(statement.input_digest, "input digest"),
        *limbs(statement.prediction_digest, "prediction digest"),
        statement.predicted_class,
        *limbs(statement.explanation_digest, "explanation digest"),
    ]


def statement_id(statement: Statement) -> bytes:
    """The 32-byte statement id (the attestation id, ``0x`` + hex, across the Aleo side)."""
    return keccak(raw_bytes(statement_words(statement)))


def mapping_key(statement_id_bytes: bytes) -> int:
    """The ``field`` key of the ``attestations`` mapping for a statement id."""
    lo, hi = digest_limbs(statement_id_bytes)
    return (lo + hi * _U128) % ALEO_FIELD


def proof_keccak(proof: Sequence[int]) -> bytes:
    """Keccak-256 of the eight proof words (32-byte big-endian each), as Solidity's abi.encodePacked."""
    if len(proof) != 8:
        raise ValueError("a Groth16 proof is 8 words")
    for w in proof:
        if isinstance(w, bool) or not isinstance(w, int) or not 0 <= w < 2**256:
            raise ValueError("proof words are uint256")
    return keccak(proof_bytes(proof))


def proof_bytes(proof: Sequence[int]) -> bytes:
    return b"".join(int(w).to_bytes(32, "big") for w in proof)


def attest_digest(program_id: str, network: str, sid: bytes, proof_hash: bytes) -> bytes:
    words = [tag_limb(ATTEST_TAG), program_tag(program_id), network_id(network), *digest_limbs(sid),
             *digest_limbs(proof_hash)]
    return keccak(raw_bytes(words))


def revoke_digest(program_id: str, network: str, sid: bytes, reason: int) -> bytes:
    if not 1 <= reason < 256:
        raise ValueError("a revocation reason is 1..255")
    words = [tag_limb(REVOKE_TAG), program_tag(program_id), network_id(network), *digest_limbs(sid), reason]
    return keccak(raw_bytes(words))


def eth_message(digest: bytes) -> bytes:
    """The 60 bytes ``ecdsa.verify.keccak256.eth`` hashes: EIP-191 personal_sign of a 32-byte digest."""
    return EIP191_PREFIX_32 + digest


def sign_digest(eth_private_key: str | bytes, digest: bytes) -> bytes:
    """65 bytes r || s || v with v the recovery id 0/1 (the form snarkVM's ``ecdsa.verify.*.eth`` reads)."""
    signed = Account.sign_message(encode_defunct(primitive=digest), eth_private_key)
    return signed.r.to_bytes(32, "big") + signed.s.to_bytes(32, "big") + bytes([signed.v - 27])


def recover_signer(digest: bytes, signature: bytes) -> str | None:
    """The checksummed address that signed ``digest`` (EIP-191), or None for a malformed signature. Accepts only
    v in {0, 1} and low s, like the program's check."""
    if len(signature) != 65 or signature[64] not in (0, 1):
        return None
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    if not (1 <= r < n and 1 <= s <= n // 2):
        return None
    try:
        return str(Account.recover_message(encode_defunct(primitive=digest), vrs=(signature[64] + 27, r, s)))
    except Exception:  # eth-keys raises several types for points not on the curve
        return None


@dataclass(frozen=True)
class AttestInputs:
    """The inputs of ``attest``, as Python values (see :func:`attest_inputs` for the Aleo text)."""

    statement: Statement
    proof: tuple[int, ...]
    attester: str
    signature: bytes
    network: str


def u128_array(values: Sequence[int]) -> str:
    return "[" + ", ".join(f"{v}u128" for v in values) + "]"


def u8_array(data: bytes) -> str:
    return "[" + ", ".join(f"{b}u8" for b in data) + "]"


def attest_inputs(a: AttestInputs) -> list[str]:
    """The Aleo literals of the ``attest`` inputs, in order."""
    st = a.statement
    return [
        u128_array(limbs(bytes(st.model_hash), "model hash")),
        u128_array(limbs(st.input_digest)),
        u128_array(limbs(st.prediction_digest)),
        f"{st.predicted_class}u32",
        u128_array(limbs(st.explanation_digest)),
        u8_array(proof_bytes(a.proof)),
        u8_array(address_bytes(a.attester, "attester")),
        u8_array(a.signature),
        f"{network_id(a.network)}u16",
    ]


def revoke_inputs(sid: bytes, reason: int, signature: bytes, network: str) -> list[str]:
    return [u128_array(digest_limbs(sid)), f"{reason}u8", u8_array(signature), f"{network_id(network)}u16"]
