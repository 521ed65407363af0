// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

import {AccessDenied, InvalidEAS, InvalidLength, Attestation} from
    "@ethereum-attestation-service/eas-contracts/contracts/Common.sol";
import {IEAS} from "@ethereum-attestation-service/eas-contracts/contracts/IEAS.sol";
import {ISchemaResolver} from "@ethereum-attestation-service/eas-contracts/contracts/resolver/ISchemaResolver.sol";
import {AttestationContext} from "./AttestationContext.sol";
import {IGroth16Verifier} from "./IGroth16Verifier.sol";

/// @title ZkxaiEASResolver
/// @notice Ethereum Attestation Service (EAS) schema resolver for zkxai attestations: EAS accepts an attestation
///         of the zkxai schema only if its data is a well-formed zkxai statement whose Groth16 proof verifies.
/// @dev Register the schema `SCHEMA` with this resolver in EAS's SchemaRegistry, then attest through EAS with
///      `data = abi.encode(modelHash, inputDigest, predictionDigest, predictedClass, explanationDigest, proof)`
///      (proof words a0, a1, b00, b01, b10, b11, c0, c1, G2 in EIP-197 order). The public inputs handed to the
///      verifier are the registry's: [modelHash >> 128, modelHash & (2**128 - 1), inputDigest, predictionDigest,
///      predictedClass, explanationDigest, context], where context = `AttestationContext.compute(address(this),
///      attestation.attester)`: the proof must be made for this resolver, this chain and the EAS attester, so EAS
///      attestation data copied from a pending transaction is useless to anyone else. Consumers still choose
///      which attesters they trust (EAS records `attester`). A rejected statement reverts with a typed error
///      (EAS propagates it).
///      Implements EAS's `ISchemaResolver` directly (EAS 1.9.0 interfaces, imported from the npm package) rather
///      than inheriting its `SchemaResolver`, whose `Semver` base pulls in OpenZeppelin. Not payable; revocations
///      (by the EAS attester, if the schema is revocable) are always allowed.
contract ZkxaiEASResolver is ISchemaResolver {
    /// @notice The EAS schema this resolver checks.
    string public constant SCHEMA =
        "bytes32 modelHash,uint256 inputDigest,uint256 predictionDigest,uint256 predictedClass,"
        "uint256 explanationDigest,uint256[8] proof";
    /// @notice Scalar field modulus r of BN254: every public input must be below it.
    uint256 internal constant R =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;
    /// @notice Number of public inputs of the attestation circuit.
    uint256 internal constant PUBLIC_INPUTS = 7;
    /// @notice Length of the schema's ABI encoding: 5 + 8 static words.
    uint256 internal constant DATA_LENGTH = 13 * 32;

    /// @notice The proof did not verify for the statement in the attestation data.
    error InvalidProof();
    /// @notice A public input is not an element of the BN254 scalar field.
    error FieldOverflow();
    /// @notice The attestation data is not `DATA_LENGTH` bytes of the schema's encoding.
    error MalformedData(uint256 length);
    /// @notice The verifier does not expect exactly seven public inputs.
    error VerifierMismatch();
    /// @notice ETH was sent to this non-payable resolver.
    error NotPayable();

    IEAS private immutable _eas;
    IGroth16Verifier private immutable _verifier;

    /// @param eas_ The EAS contract allowed to call the resolver hooks.
    /// @param verifier_ Groth16 verifier holding the attestation circuit's verifying key (seven public inputs).
    constructor(IEAS eas_, IGroth16Verifier verifier_) {
        if (address(eas_).code.length == 0) revert InvalidEAS();
        if (address(verifier_).code.length == 0) revert VerifierMismatch();
        try verifier_.publicInputCount() returns (uint256 count) {
            if (count != PUBLIC_INPUTS) revert VerifierMismatch();
        } catch {
            revert VerifierMismatch();
        }
        _eas = eas_;
        _verifier = verifier_;
    }

    modifier onlyEAS() {
        if (msg.sender != address(_eas)) revert AccessDenied();
        _;
    }

    /// @notice ETH is refused: the resolver takes no fees.
    receive() external payable {
        revert NotPayable();
    }

    /// @notice Semantic version of this resolver (EAS's ISemver).
    function version() external pure returns (string memory) {
        return "1.0.0";
    }

    /// @notice The EAS contract this resolver serves.
    function eas() external view returns (address) {
        return address(_eas);
    }

    /// @notice The Groth16 verifier every statement is checked against.
    function verifier() external view returns (address) {
        return address(_verifier);
    }

    /// @inheritdoc ISchemaResolver
    function isPayable() external pure returns (bool) {
        return false;
    }

    /// @inheritdoc ISchemaResolver
    function attest(Attestation calldata attestation) external payable onlyEAS returns (bool) {
        if (msg.value != 0) revert NotPayable();
        _check(attestation.data, attestation.attester);
        return true;
    }

    /// @inheritdoc ISchemaResolver
    function multiAttest(Attestation[] calldata attestations, uint256[] calldata values)
        external
        payable
        onlyEAS
        returns (bool)
    {
        if (attestations.length != values.length) revert InvalidLength();
        if (msg.value != 0) revert NotPayable();
        for (uint256 i = 0; i < attestations.length; ++i) {
            _check(attestations[i].data, attestations[i].attester);
        }
        return true;
    }

    /// @inheritdoc ISchemaResolver
    function revoke(Attestation calldata) external payable onlyEAS returns (bool) {
        if (msg.value != 0) revert NotPayable();
        return true;
    }

    /// @inheritdoc ISchemaResolver
    function multiRevoke(Attestation[] calldata attestations, uint256[] calldata values)
        external
        payable
        onlyEAS
        returns (bool)
    {
        if (attestations.length != values.length) revert InvalidLength();
        if (msg.value != 0) revert NotPayable();
        return true;
    }

    /// @notice The zkxai statement id of attestation data (the registry's `attestationId` of the same fields),
    ///         so EAS attestations and registry records of one statement can be matched.
    function statementId(bytes calldata data) external pure returns (bytes32) {
        if (data.length != DATA_LENGTH) revert MalformedData(data.length);
        return keccak256(data[:160]);
    }

    /// @notice Whether `data` is a well-formed statement with a valid proof for `attester` at this resolver (never
    ///         reverts on bad data).
    function verifyData(bytes calldata data, address attester) external view returns (bool) {
        if (data.length != DATA_LENGTH) return false;
        (bool inField, uint256[] memory input, uint256[8] memory p) = _decode(data, attester);
        return inField && _verify(input, p);
    }

    /// @notice The context public input a proof must carry for EAS attester `attester` (see AttestationContext).
    function attestationContext(address attester) external view returns (uint256) {
        return AttestationContext.compute(address(this), attester);
    }

    /// @dev Revert with a typed error unless `data` is a well-formed statement with a valid proof for `attester`.
    function _check(bytes calldata data, address attester) private view {
        if (data.length != DATA_LENGTH) revert MalformedData(data.length);
        (bool inField, uint256[] memory input, uint256[8] memory p) = _decode(data, attester);
        if (!inField) revert FieldOverflow();
        if (!_verify(input, p)) revert InvalidProof();
    }

    function _decode(bytes calldata data, address attester)
        private
        view
        returns (bool inField, uint256[] memory input, uint256[8] memory p)
    {
        bytes32 modelHash;
        uint256 inputDigest;
        uint256 predictionDigest;
        uint256 predictedClass;
        uint256 explanationDigest;
        (modelHash, inputDigest, predictionDigest, predictedClass, explanationDigest, p) =
            abi.decode(data, (bytes32, uint256, uint256, uint256, uint256, uint256[8]));
        inField = inputDigest < R && predictionDigest < R && predictedClass < R && explanationDigest < R;
        input = new uint256[](PUBLIC_INPUTS);
        input[0] = uint256(modelHash) >> 128;
        input[1] = uint256(modelHash) & type(uint128).max;
        input[2] = inputDigest;
        input[3] = predictionDigest;
        input[4] = predictedClass;
        input[5] = explanationDigest;
        input[6] = AttestationContext.compute(address(this), attester);
    }

    function _verify(uint256[] memory input, uint256[8] memory p) private view returns (bool) {
        return _verifier.verifyProof([p[0], p[1]], [[p[2], p[3]], [p[4], p[5]]], [p[6], p[7]], input);
    }
}
