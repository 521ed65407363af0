"""Ethereum side of zkxai: submit attestations to the on-chain registry and read them back.

- :mod:`node.chain.ethereum`: :class:`EthereumAdapter` (async, signs locally) for the node.
- :mod:`node.chain.reader`: light synchronous readers for the verifier CLI (no torch, no eth-tester).
- :mod:`node.chain.eas`: zkxai statements as EAS attestations, checked on chain by ``ZkxaiEASResolver``.
- :mod:`node.chain.rpc_bridge`: serve the in-process chain's JSON-RPC to other processes.
- :mod:`node.chain.calldata`: boundary validation of proof / key words and the attestation id.
- :mod:`node.chain.errors`: the typed errors, decoded from contract reverts.
"""
