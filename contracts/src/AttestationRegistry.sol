// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AttestationContext} from "./AttestationContext.sol";
import {IAttestationRegistry} from "./IAttestationRegistry.sol";
import {IGroth16Verifier} from "./IGroth16Verifier.sol";

/// @title AttestationRegistry
/// @notice Records zkxai inference attestations, each backed by a Groth16 proof checked on-chain at submission,
///         for the sender, at this registry, on this chain; the attester revokes its own records, the owner whole models.
/// @dev See IAttestationRegistry for the statement, the public-input layout and the revocation rules.
///      Reason codes are application-defined; zkxai uses 0 unspecified, 1 model found faulty, 2 input invalid,
///      3 key or node compromised, 4 superseded (node.chain.ethereum.RevocationReason).
contract AttestationRegistry is IAttestationRegistry {
    /// @notice Scalar field modulus r of BN254: every public input must be below it.
    uint256 internal constant R =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice Number of public inputs of the attestation circuit.
    uint256 internal constant PUBLIC_INPUTS = 7;

    /// @dev Model-wide revocation, one slot.
    struct ModelRevocation {
        bool revoked;
        uint48 revokedAt;
        uint16 reason;
    }

    IGroth16Verifier private immutable _verifier;
    address private _owner;
    uint256 private _count;
    mapping(bytes32 => Attestation) private _attestations;
    mapping(bytes32 => ModelRevocation) private _modelRevocations;

    /// @param verifier_ Groth16 verifier holding the attestation circuit's verifying key (seven public inputs).
    ///        The deployer becomes the owner.
    constructor(address verifier_) {
        if (verifier_.code.length == 0) revert VerifierMismatch();
        try IGroth16Verifier(verifier_).publicInputCount() returns (uint256 count) {
            if (count != PUBLIC_INPUTS) revert VerifierMismatch();
        } catch {
            revert VerifierMismatch();
        }
        _verifier = IGroth16Verifier(verifier_);
        _owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
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
        if (predictedClass > type(uint64).max) revert ClassOutOfRange(predictedClass);
        id = keccak256(abi.encode(modelHash, inputDigest, predictionDigest, predictedClass, explanationDigest));
        if (_attestations[id].blockNumber != 0) revert AlreadyAttested(id);
        if (_modelRevocations[modelHash].revoked) revert RevokedModel(modelHash);

        uint256[] memory input = new uint256[](PUBLIC_INPUTS);
        input[0] = uint256(modelHash) >> 128;
        input[1] = uint256(modelHash) & type(uint128).max;
        input[2] = inputDigest;
        input[3] = predictionDigest;
        input[4] = predictedClass;
        input[5] = explanationDigest;
        input[6] = AttestationContext.compute(address(this), msg.sender);
        if (!_verifier.verifyProof(a, b, c, input)) revert InvalidProof();

        // The digests are not stored: the event carries them and `id` binds them to this record.
        _attestations[id] = Attestation({
            modelHash: modelHash,
            attester: msg.sender,
            timestamp: uint48(block.timestamp),
            blockNumber: uint48(block.number),
            predictedClass: uint64(predictedClass),
            revoked: false,
            revokedAt: 0,
            revocationReason: 0
        });
        unchecked {
            ++_count;
        }
        emit Attested(
            id,
            modelHash,
            msg.sender,
            inputDigest,
            predictionDigest,
            predictedClass,
            explanationDigest,
            [a[0], a[1], b[0][0], b[0][1], b[1][0], b[1][1], c[0], c[1]]
        );
    }

    /// @inheritdoc IAttestationRegistry
    function revoke(bytes32 id, uint16 reason) external {
        Attestation storage record = _attestations[id];
        if (record.blockNumber == 0) revert UnknownAttestation(id);
        if (msg.sender != record.attester) revert NotAuthorized(msg.sender);
        if (record.revoked) revert AlreadyRevoked(id);
        record.revoked = true;
        record.revokedAt = uint48(block.timestamp);
        record.revocationReason = reason;
        emit Revoked(id, record.modelHash, msg.sender, reason);
    }

    /// @inheritdoc IAttestationRegistry
    function revokeModel(bytes32 modelHash, uint16 reason) external {
        if (msg.sender != _owner) revert NotAuthorized(msg.sender);
        if (_modelRevocations[modelHash].revoked) revert AlreadyRevoked(modelHash);
        _modelRevocations[modelHash] = ModelRevocation({
            revoked: true,
            revokedAt: uint48(block.timestamp),
            reason: reason
        });
        emit ModelRevoked(modelHash, msg.sender, reason);
    }

    /// @notice Hand the owner role to `newOwner` (not the zero address); owner only.
    function transferOwnership(address newOwner) external {
        if (msg.sender != _owner) revert NotAuthorized(msg.sender);
        if (newOwner == address(0)) revert ZeroAddress();
        emit OwnershipTransferred(_owner, newOwner);
        _owner = newOwner;
    }

    /// @inheritdoc IAttestationRegistry
    function getAttestation(bytes32 id) external view returns (Attestation memory record) {
        record = _attestations[id];
        if (record.blockNumber == 0) revert UnknownAttestation(id);
    }

    /// @inheritdoc IAttestationRegistry
    function isAttested(bytes32 id) external view returns (bool) {
        Attestation storage record = _attestations[id];
        return _valid(record);
    }

    /// @inheritdoc IAttestationRegistry
    function isRevoked(bytes32 id) external view returns (bool) {
        Attestation storage record = _attestations[id];
        return record.blockNumber != 0 && !_valid(record);
    }

    /// @inheritdoc IAttestationRegistry
    function isAttestedPredictionBy(address attester, bytes32 modelHash, uint256 predictedClass, bytes32 id)
        external
        view
        returns (bool)
    {
        Attestation storage record = _attestations[id];
        return _valid(record) && record.attester == attester && record.modelHash == modelHash
            && record.predictedClass == predictedClass;
    }

    /// @inheritdoc IAttestationRegistry
    function attestationContext(address attester) external view returns (uint256) {
        return AttestationContext.compute(address(this), attester);
    }

    /// @inheritdoc IAttestationRegistry
    function modelRevocation(bytes32 modelHash) external view returns (bool revoked, uint48 revokedAt, uint16 reason) {
        ModelRevocation storage m = _modelRevocations[modelHash];
        return (m.revoked, m.revokedAt, m.reason);
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
    function owner() external view returns (address) {
        return _owner;
    }

    /// @inheritdoc IAttestationRegistry
    function attestationCount() external view returns (uint256) {
        return _count;
    }

    /// @dev Recorded, not revoked, and its model not revoked.
    function _valid(Attestation storage record) private view returns (bool) {
        return record.blockNumber != 0 && !record.revoked && !_modelRevocations[record.modelHash].revoked;
    }
}
