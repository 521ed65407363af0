// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title AttestationContext
/// @notice The context public input that binds a zkxai proof to where it is attested and by whom.
/// @dev context = uint256(keccak256(abi.encodePacked(TAG, chainId, registry, attester))) mod r, with TAG the 16
///      bytes "zkxai.context.v1", chainId a uint256, registry and attester 20-byte addresses (88 bytes hashed).
///      The prover puts it among the proof's public inputs (the circuit carries it; Groth16 binds every public
///      input); a registry recomputes it from `block.chainid`, `address(this)` and the sender it records as the
///      attester, so a proof copied from a pending transaction, or replayed at another registry or on another
///      chain, does not verify. Same function off-chain: `node.binding.attestation_context`.
library AttestationContext {
    /// @notice Scalar field modulus r of BN254.
    uint256 internal constant R =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice Domain tag (16 bytes) of the context hash.
    bytes16 internal constant TAG = "zkxai.context.v1";

    /// @notice The context of a statement attested at `registry` by `attester` on this chain.
    function compute(address registry, address attester) internal view returns (uint256) {
        return uint256(keccak256(abi.encodePacked(TAG, block.chainid, registry, attester))) % R;
    }
}
