"""Ethereum side of zkxai: submit attestations to the on-chain registry and read them back.

- :mod:`node.chains.ethereum.chain`: :class:`EthereumChain`, Ethereum under the adapter contract
  (:mod:`node.chains.adapter`): single records, batches, registry deployment, revocation; what the node holds.
- :mod:`node.chains.ethereum.adapter`: :class:`EthereumAdapter` (async, signs locally), wrapped by ``EthereumChain``.
- :mod:`node.chains.ethereum.reader`: synchronous web3 readers (no torch, no eth-tester); the batch verifier uses them.
- :mod:`node.chains.ethereum.light_reader`: the verifier CLI's reader on :mod:`node.chains.ethereum.jsonrpc` (standard
  library, batched calls): no web3 import. Both return :class:`~node.chains.ethereum.records.OnchainAttestation`.
- :mod:`node.chains.ethereum.eas`: zkxai statements as EAS attestations, checked on chain by ``ZkxaiEASResolver``.
- :mod:`node.chains.ethereum.rpc_bridge`: serve the in-process chain's JSON-RPC to other processes.
- :mod:`node.chains.ethereum.batch`: :class:`BatchSubmitter`, the batch registry's writer (shares the adapter's account).
- :mod:`node.chains.ethereum.txmanager`: nonces, fee bumping, receipts and reorg checks.
- :mod:`node.chains.ethereum.calldata`: boundary validation of proof / key words and the attestation id.
- :mod:`node.chains.ethereum.errors`: the typed errors, decoded from contract reverts.
"""
