"""Chains: the adapter contract every chain implements (:mod:`~node.chains.adapter`), the context a proof is bound
to (:mod:`~node.chains.binding`), and one subpackage per chain, each owning its wire formats, keys, trust checks and
typed errors:

- :mod:`node.chains.ethereum`: registries on any EVM chain (AsyncWeb3 + eth-account; the proof is checked on chain).
- :mod:`node.chains.aleo`: Aleo (a program recording the statement, the proof's keccak and an ECDSA signature by the
  Ethereum attester key, checked in ``finalize``; transitions authorized by the pinned SDK, snarkOS REST v2 wire).
- :mod:`node.chains.icp`: the Internet Computer (certified state: CBOR hash trees signed with BLS12-381 by a subnet,
  delegated from the IC root key).

May import ``prover``, ``circuits``, ``contracts`` and the shared leaves of :mod:`node` (errors, json_guard,
keystore); never another role. A chain subpackage never imports another chain's subpackage.
"""
