// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IGroth16Verifier} from "./IGroth16Verifier.sol";

/// @title Groth16Verifier
/// @notice Generic BN254 Groth16 verifier: the verifying key is supplied once in the constructor, validated
///         (field range, curve membership, G2 subgroup via the pairing precompile) and then immutable.
/// @dev Uses the EIP-196/197 precompiles: 0x06 (G1 add), 0x07 (G1 scalar mul), 0x08 (pairing check).
///      alpha, beta, gamma, delta are immutables; the IC points (dynamic count) are the code of a data contract
///      created by the constructor (0x00 followed by x, y words of each point), read back with one EXTCODECOPY:
///      ~2.7k gas per verification instead of 2.1k per cold storage word (~31k for six inputs).
///      Verification is a single 4-pair pairing call: e(-A, B) * e(alpha, beta) * e(vk_x, gamma) * e(C, delta) == 1,
///      where vk_x = IC[0] + sum_i input[i] * IC[i + 1].
contract Groth16Verifier is IGroth16Verifier {
    /// @notice Base field modulus q of BN254: every point coordinate must be below it.
    uint256 internal constant Q =
        21888242871839275222246405745257275088696311157297823662689037894645226208583;
    /// @notice Scalar field modulus r of BN254: every public input must be below it.
    uint256 internal constant R =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice Upper bound on the number of public inputs accepted at deployment (keeps verification gas bounded).
    uint256 internal constant MAX_PUBLIC_INPUTS = 256;

    /// @notice The verifying key given to the constructor is malformed.
    /// @param reason Short description of the failed check.
    error InvalidVerifyingKey(string reason);

    uint256 private immutable ALPHA_X;
    uint256 private immutable ALPHA_Y;
    uint256 private immutable BETA_X_IMAG;
    uint256 private immutable BETA_X_REAL;
    uint256 private immutable BETA_Y_IMAG;
    uint256 private immutable BETA_Y_REAL;
    uint256 private immutable GAMMA_X_IMAG;
    uint256 private immutable GAMMA_X_REAL;
    uint256 private immutable GAMMA_Y_IMAG;
    uint256 private immutable GAMMA_Y_REAL;
    uint256 private immutable DELTA_X_IMAG;
    uint256 private immutable DELTA_X_REAL;
    uint256 private immutable DELTA_Y_IMAG;
    uint256 private immutable DELTA_Y_REAL;

    /// @dev Data contract whose code is 0x00 || IC[0].x || IC[0].y || IC[1].x ... (64 bytes per point).
    address private immutable IC_DATA;
    /// @dev Number of IC points (public inputs + 1).
    uint256 private immutable IC_COUNT;

    /// @notice Store and validate a verifying key.
    /// @param alpha G1 point alpha as [x, y].
    /// @param beta G2 point beta as [[x_imag, x_real], [y_imag, y_real]].
    /// @param gamma G2 point gamma, same order.
    /// @param delta G2 point delta, same order.
    /// @param ic G1 points IC[0..n] for n public inputs.
    constructor(
        uint256[2] memory alpha,
        uint256[2][2] memory beta,
        uint256[2][2] memory gamma,
        uint256[2][2] memory delta,
        uint256[2][] memory ic
    ) {
        if (ic.length == 0 || ic.length > MAX_PUBLIC_INPUTS + 1) revert InvalidVerifyingKey("ic length");
        if (!_g1Valid(alpha[0], alpha[1])) revert InvalidVerifyingKey("alpha");
        bytes memory icData = new bytes(1 + 64 * ic.length); // leading 0x00 (STOP): the data contract is inert
        for (uint256 i = 0; i < ic.length; ++i) {
            uint256 x = ic[i][0];
            uint256 y = ic[i][1];
            if (!_g1Valid(x, y)) revert InvalidVerifyingKey("ic");
            assembly ("memory-safe") {
                let at := add(add(icData, 0x21), mul(i, 0x40))
                mstore(at, x)
                mstore(add(at, 0x20), y)
            }
        }
        // Init code returning the data that follows it: PUSH2 len DUP1 PUSH1 0x0a RETURNDATASIZE CODECOPY
        // RETURNDATASIZE RETURN (10 bytes).
        bytes memory init = abi.encodePacked(hex"61", uint16(icData.length), hex"80600a3d393df3", icData);
        address icContract;
        assembly ("memory-safe") {
            icContract := create(0, add(init, 0x20), mload(init))
        }
        if (icContract == address(0) || icContract.code.length != icData.length) revert InvalidVerifyingKey("ic store");
        IC_DATA = icContract;
        IC_COUNT = ic.length;
        if (!_g2InRange(beta) || !_g2InRange(gamma) || !_g2InRange(delta)) revert InvalidVerifyingKey("g2 range");
        // Pairing the G1 identity with each G2 point makes the precompile run its curve and subgroup checks.
        uint256[18] memory probe;
        probe[2] = beta[0][0];
        probe[3] = beta[0][1];
        probe[4] = beta[1][0];
        probe[5] = beta[1][1];
        probe[8] = gamma[0][0];
        probe[9] = gamma[0][1];
        probe[10] = gamma[1][0];
        probe[11] = gamma[1][1];
        probe[14] = delta[0][0];
        probe[15] = delta[0][1];
        probe[16] = delta[1][0];
        probe[17] = delta[1][1];
        bool ok;
        uint256 result;
        assembly ("memory-safe") {
            let out := mload(0x40)
            ok := staticcall(gas(), 0x08, probe, 576, out, 0x20)
            result := mload(out)
        }
        if (!ok || result != 1) revert InvalidVerifyingKey("g2 point");

        ALPHA_X = alpha[0];
        ALPHA_Y = alpha[1];
        BETA_X_IMAG = beta[0][0];
        BETA_X_REAL = beta[0][1];
        BETA_Y_IMAG = beta[1][0];
        BETA_Y_REAL = beta[1][1];
        GAMMA_X_IMAG = gamma[0][0];
        GAMMA_X_REAL = gamma[0][1];
        GAMMA_Y_IMAG = gamma[1][0];
        GAMMA_Y_REAL = gamma[1][1];
        DELTA_X_IMAG = delta[0][0];
        DELTA_X_REAL = delta[0][1];
        DELTA_Y_IMAG = delta[1][0];
        DELTA_Y_REAL = delta[1][1];
    }

    /// @inheritdoc IGroth16Verifier
    function publicInputCount() external view returns (uint256) {
        return IC_COUNT - 1;
    }

    /// @inheritdoc IGroth16Verifier
    function verifyingKey()
        external
        view
        returns (
            uint256[2] memory alpha,
            uint256[2][2] memory beta,
            uint256[2][2] memory gamma,
            uint256[2][2] memory delta,
            uint256[2][] memory ic
        )
    {
        alpha = [ALPHA_X, ALPHA_Y];
        beta = [[BETA_X_IMAG, BETA_X_REAL], [BETA_Y_IMAG, BETA_Y_REAL]];
        gamma = [[GAMMA_X_IMAG, GAMMA_X_REAL], [GAMMA_Y_IMAG, GAMMA_Y_REAL]];
        delta = [[DELTA_X_IMAG, DELTA_X_REAL], [DELTA_Y_IMAG, DELTA_Y_REAL]];
        uint256[] memory words = _icWords();
        ic = new uint256[2][](IC_COUNT);
        for (uint256 i = 0; i < IC_COUNT; ++i) {
            ic[i] = [words[2 * i], words[2 * i + 1]];
        }
    }

    /// @inheritdoc IGroth16Verifier
    function verifyProof(
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c,
        uint256[] calldata input
    ) external view returns (bool) {
        if (input.length + 1 != IC_COUNT) return false;
        if (a[0] >= Q || a[1] >= Q || c[0] >= Q || c[1] >= Q) return false;
        if (b[0][0] >= Q || b[0][1] >= Q || b[1][0] >= Q || b[1][1] >= Q) return false;

        // vk_x = IC[0] + sum_i input[i] * IC[i + 1]
        uint256[] memory icw = _icWords();
        uint256 x = icw[0];
        uint256 y = icw[1];
        for (uint256 i = 0; i < input.length; ++i) {
            uint256 s = input[i];
            if (s >= R) return false;
            if (s == 0) continue;
            (bool okMul, uint256 mx, uint256 my) = _ecMul(icw[2 * i + 2], icw[2 * i + 3], s);
            if (!okMul) return false;
            bool okAdd;
            (okAdd, x, y) = _ecAdd(x, y, mx, my);
            if (!okAdd) return false;
        }

        uint256[24] memory p;
        // e(-A, B)
        p[0] = a[0];
        p[1] = a[1] == 0 ? 0 : Q - a[1];
        p[2] = b[0][0];
        p[3] = b[0][1];
        p[4] = b[1][0];
        p[5] = b[1][1];
        // e(alpha, beta)
        p[6] = ALPHA_X;
        p[7] = ALPHA_Y;
        p[8] = BETA_X_IMAG;
        p[9] = BETA_X_REAL;
        p[10] = BETA_Y_IMAG;
        p[11] = BETA_Y_REAL;
        // e(vk_x, gamma)
        p[12] = x;
        p[13] = y;
        p[14] = GAMMA_X_IMAG;
        p[15] = GAMMA_X_REAL;
        p[16] = GAMMA_Y_IMAG;
        p[17] = GAMMA_Y_REAL;
        // e(C, delta)
        p[18] = c[0];
        p[19] = c[1];
        p[20] = DELTA_X_IMAG;
        p[21] = DELTA_X_REAL;
        p[22] = DELTA_Y_IMAG;
        p[23] = DELTA_Y_REAL;

        bool ok;
        uint256 result;
        assembly ("memory-safe") {
            let out := mload(0x40)
            ok := staticcall(gas(), 0x08, p, 768, out, 0x20)
            result := mload(out)
        }
        return ok && result == 1;
    }

    /// @dev The IC points as 2 * IC_COUNT words x0, y0, x1, y1, ..., copied from the data contract's code.
    function _icWords() private view returns (uint256[] memory words) {
        uint256 n = 2 * IC_COUNT;
        words = new uint256[](n);
        address icData = IC_DATA;
        assembly ("memory-safe") {
            extcodecopy(icData, add(words, 0x20), 1, mul(n, 0x20))
        }
    }

    /// @dev True iff (x, y) is a canonical G1 point (the identity (0, 0) included): ecAdd rejects off-curve input.
    function _g1Valid(uint256 x, uint256 y) private view returns (bool) {
        if (x >= Q || y >= Q) return false;
        (bool ok, , ) = _ecAdd(x, y, 0, 0);
        return ok;
    }

    /// @dev True iff every coordinate of the G2 point is a canonical base-field element.
    function _g2InRange(uint256[2][2] memory p) private pure returns (bool) {
        return p[0][0] < Q && p[0][1] < Q && p[1][0] < Q && p[1][1] < Q;
    }

    /// @dev G1 addition through precompile 0x06; ok is false when an operand is not on the curve.
    function _ecAdd(uint256 x1, uint256 y1, uint256 x2, uint256 y2)
        private
        view
        returns (bool ok, uint256 x, uint256 y)
    {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, x1)
            mstore(add(m, 0x20), y1)
            mstore(add(m, 0x40), x2)
            mstore(add(m, 0x60), y2)
            ok := staticcall(gas(), 0x06, m, 0x80, m, 0x40)
            x := mload(m)
            y := mload(add(m, 0x20))
        }
    }

    /// @dev G1 scalar multiplication through precompile 0x07; ok is false when the point is not on the curve.
    function _ecMul(uint256 px, uint256 py, uint256 s) private view returns (bool ok, uint256 x, uint256 y) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, px)
            mstore(add(m, 0x20), py)
            mstore(add(m, 0x40), s)
            ok := staticcall(gas(), 0x07, m, 0x60, m, 0x40)
            x := mload(m)
            y := mload(add(m, 0x20))
        }
    }
}
