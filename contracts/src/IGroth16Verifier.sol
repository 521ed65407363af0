// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title IGroth16Verifier
/// @notice Minimal interface of a BN254 (alt_bn128) Groth16 verifier whose verifying key is fixed at deployment.
/// @dev G2 points use the EIP-197 word order: [[x_imag, x_real], [y_imag, y_real]].
interface IGroth16Verifier {
    /// @notice Check a Groth16 proof against the stored verifying key.
    /// @param a Proof point A (G1) as [x, y].
    /// @param b Proof point B (G2) as [[x_imag, x_real], [y_imag, y_real]].
    /// @param c Proof point C (G1) as [x, y].
    /// @param input Public inputs, each an element of the scalar field [0, r), in circuit order.
    /// @return True iff the proof is valid for `input`. Malformed data (input count, inputs >= r,
    ///         coordinates >= q, points not on the curve) yields false, never a revert.
    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[] calldata input
    ) external view returns (bool);

    /// @notice Number of public inputs the verifying key expects (IC length minus one).
    function publicInputCount() external view returns (uint256);

    /// @notice The whole verifying key, so off-chain verifiers can re-check proofs against what the chain uses.
    /// @return alpha G1 point alpha.
    /// @return beta G2 point beta (EIP-197 order).
    /// @return gamma G2 point gamma (EIP-197 order).
    /// @return delta G2 point delta (EIP-197 order).
    /// @return ic G1 points IC[0..n] of the public-input linear combination.
    function verifyingKey()
        external
        view
        returns (
            uint256[2] memory alpha,
            uint256[2][2] memory beta,
            uint256[2][2] memory gamma,
            uint256[2][2] memory delta,
            uint256[2][] memory ic
        );
}
