// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.28;

/// @title IAttestationRegistry
/// @notice Consumer interface of the zkxai attestation registry. Each attestation records that a Groth16 proof
///         was verified on-chain for the statement "model `modelHash` produced, on the input committed in
///         `inputDigest`, the prediction committed in `predictionDigest` with class `predictedClass`, explained by
///         the attribution map committed in `explanationDigest`". Digests are salted commitments (elements of the
///         BN254 scalar field); the registry never sees the underlying data.
/// @dev Public inputs of the proof, in order: [modelHash >> 128, modelHash & (2**128 - 1), inputDigest,
///      predictionDigest, predictedClass, explanationDigest]. A record is written only after the proof verifies.
interface IAttestationRegistry {
    /// @notice One verified attestation.
    /// @param modelHash 32-byte hash of the model (weights + architecture), split into two 128-bit public inputs.
    /// @param inputDigest Salted commitment to the model input.
    /// @param predictionDigest Salted commitment to the model output.
    /// @param predictedClass The predicted class index, public in clear.
    /// @param explanationDigest Salted commitment to the attribution (explanation) map.
    /// @param attester Account that submitted the proof.
    /// @param timestamp Timestamp of the block that recorded the attestation.
    /// @param blockNumber Number of the block that recorded the attestation (where its `Attested` event lives).
    struct Attestation {
        bytes32 modelHash;
        uint256 inputDigest;
        uint256 predictionDigest;
        uint256 predictedClass;
        uint256 explanationDigest;
        address attester;
        uint64 timestamp;
        uint64 blockNumber;
    }

    /// @notice Emitted once per attestation, with the full proof so anyone can re-verify it off-chain.
    /// @param id Attestation id, see `attestationId`.
    /// @param modelHash The attested model.
    /// @param attester Account that submitted the proof.
    /// @param predictedClass The predicted class index.
    /// @param proof Proof words in calldata order: a0, a1, b00, b01, b10, b11, c0, c1 (EIP-197 G2 order).
    event Attested(
        bytes32 indexed id,
        bytes32 indexed modelHash,
        address indexed attester,
        uint256 predictedClass,
        uint256[8] proof
    );

    /// @notice The proof did not verify for the given public inputs.
    error InvalidProof();
    /// @notice An attestation with this id already exists.
    error AlreadyAttested(bytes32 id);
    /// @notice A public input is not an element of the BN254 scalar field.
    error FieldOverflow();
    /// @notice No attestation with this id exists.
    error UnknownAttestation(bytes32 id);
    /// @notice The verifier given to the constructor does not expect exactly six public inputs.
    error VerifierMismatch();

    /// @notice Verify a proof and record the attestation.
    /// @return id The new attestation id.
    function attest(
        bytes32 modelHash,
        uint256 inputDigest,
        uint256 predictionDigest,
        uint256 predictedClass,
        uint256 explanationDigest,
        uint256[2] calldata a,
        uint256[2][2] calldata b,
        uint256[2] calldata c
    ) external returns (bytes32 id);

    /// @notice The record of attestation `id`; reverts with `UnknownAttestation(id)` if there is none.
    function getAttestation(bytes32 id) external view returns (Attestation memory);

    /// @notice Whether attestation `id` exists.
    function isAttested(bytes32 id) external view returns (bool);

    /// @notice Whether attestation `id` exists and attests class `predictedClass` for model `modelHash`:
    ///         the one-call check a consumer contract needs before acting on a prediction.
    function isAttestedPrediction(bytes32 modelHash, uint256 predictedClass, bytes32 id) external view returns (bool);

    /// @notice The id of an attestation: keccak256(abi.encode(modelHash, inputDigest, predictionDigest,
    ///         predictedClass, explanationDigest)). Identical statements share an id and can be recorded once.
    function attestationId(
        bytes32 modelHash,
        uint256 inputDigest,
        uint256 predictionDigest,
        uint256 predictedClass,
        uint256 explanationDigest
    ) external pure returns (bytes32);

    /// @notice The Groth16 verifier every proof is checked against.
    function verifier() external view returns (address);

    /// @notice Number of attestations recorded so far.
    function attestationCount() external view returns (uint256);
}
