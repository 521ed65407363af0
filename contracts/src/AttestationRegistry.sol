// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {IAttestationRegistry} from "./IAttestationRegistry.sol";
import {IGroth16Verifier} from "./IGroth16Verifier.sol";

/// @title AttestationRegistry
/// @notice Records zkxai inference attestations, each backed by a Groth16 proof checked on-chain at submission.
/// @dev See IAttestationRegistry for the statement and public-input layout.
contract AttestationRegistry is IAttestationRegistry {
    /// @notice Scalar field modulus r of BN254: every public input must be below it.
    uint256 internal constant R =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice Number of public inputs of the attestation circuit.
    uint256 internal constant PUBLIC_INPUTS = 6;

    IGroth16Verifier private immutable _verifier;
    mapping(bytes32 => Attestation) private _attestations;
    uint256 private _count;

    /// @param verifier_ Groth16 verifier holding the attestation circuit's verifying key (six public inputs).
    constructor(address verifier_) {
        if (verifier_.code.length == 0) revert VerifierMismatch();
        try IGroth16Verifier(verifier_).publicInputCount() returns (uint256 count) {
            if (count != PUBLIC_INPUTS) revert VerifierMismatch();
        } catch {
            revert VerifierMismatch();
        }
        _verifier = IGroth16Verifier(verifier_);
    }

    /// @inheritdoc IAttestationRegistry
    function attest(
        bytes32 modelHash,
        uint256 inputDigest,
        uint256 predictionDigest,
        uint256 predictedClass,
        uint256 explanationDigest,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c
    ) external returns (bytes32 id) {
        if (inputDigest >= R || predictionDigest >= R || predictedClass >= R || explanationDigest >= R) {
            revert FieldOverflow();
        }
        id = keccak256(abi.encode(modelHash, inputDigest, predictionDigest, predictedClass, explanationDigest));
        if (_attestations[id].blockNumber != 0) revert AlreadyAttested(id);

        uint256[] memory input = new uint256[](PUBLIC_INPUTS);
        input[0] = uint256(modelHash) >> 128;
        input[1] = uint256(modelHash) & type(uint128).max;
        input[2] = inputDigest;
        input[3] = predictionDigest;
        input[4] = predictedClass;
        input[5] = explanationDigest;
        if (!_verifier.verifyProof(a, b, c, input)) revert InvalidProof();

        _attestations[id] = Attestation({
            modelHash: modelHash,
            inputDigest: inputDigest,
            predictionDigest: predictionDigest,
            predictedClass: predictedClass,
            explanationDigest: explanationDigest,
            attester: msg.sender,
            timestamp: uint64(block.timestamp),
            blockNumber: uint64(block.number)
        });
        unchecked {
            ++_count;
        }
        emit Attested(id, modelHash, msg.sender, predictedClass, [a[0], a[1], b[0][0], b[0][1], b[1][0], b[1][1], c[0], c[1]]);
    }

    /// @inheritdoc IAttestationRegistry
    function getAttestation(bytes32 id) external view returns (Attestation memory record) {
        record = _attestations[id];
        if (record.blockNumber == 0) revert UnknownAttestation(id);
    }

    /// @inheritdoc IAttestationRegistry
    function isAttested(bytes32 id) external view returns (bool) {
        return _attestations[id].blockNumber != 0;
    }

    /// @inheritdoc IAttestationRegistry
    function isAttestedPrediction(bytes32 modelHash, uint256 predictedClass, bytes32 id) external view returns (bool) {
        Attestation storage record = _attestations[id];
        return record.blockNumber != 0 && record.modelHash == modelHash && record.predictedClass == predictedClass;
    }

    /// @inheritdoc IAttestationRegistry
    function attestationId(
        bytes32 modelHash,
        uint256 inputDigest,
        uint256 predictionDigest,
        uint256 predictedClass,
        uint256 explanationDigest
    ) external pure returns (bytes32) {
        return keccak256(abi.encode(modelHash, inputDigest, predictionDigest, predictedClass, explanationDigest));
    }

    /// @inheritdoc IAttestationRegistry
    function verifier() external view returns (address) {
        return address(_verifier);
    }

    /// @inheritdoc IAttestationRegistry
    function attestationCount() external view returns (uint256) {
        return _count;
    }
}
