"""Ethereum side of zkxai: submit attestations to the on-chain registry and read them back.

- :mod:`node.chain.ethereum`: :class:`EthereumAdapter` (async, signs locally) for the node.
- :mod:`node.chain.reader`: synchronous web3 readers (no torch, no eth-tester); the batch verifier uses them.
- :mod:`node.chain.light_reader`: the verifier CLI's reader on :mod:`node.chain.jsonrpc` (standard library, batched
  calls): no web3 import.
- :mod:`node.chain.eas`: zkxai statements as EAS attestations, checked on chain by ``ZkxaiEASResolver``.
- :mod:`node.chain.rpc_bridge`: serve the in-process chain's JSON-RPC to other processes.
- :mod:`node.chain.calldata`: boundary validation of proof / key words and the attestation id.
- :mod:`node.chain.errors`: the typed errors, decoded from contract reverts.
"""
