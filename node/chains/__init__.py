"""Chain adapters: one subpackage per chain; each owns its wire formats, its trust checks and its typed errors.

- :mod:`node.chains.icp`: the Internet Computer (certified state: CBOR hash trees signed with BLS12-381 by a
  subnet, delegated from the IC root key).

The Ethereum adapter still lives in :mod:`node.chain` until the reorganisation into ``node.chains.ethereum``.
A chain subpackage never imports another chain's subpackage.
"""
