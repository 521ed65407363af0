"""Aleo: the zkxai registry program's client side (the Aleo part of "chains as adapters").

Owns: the registry program's statement packing and signatures (:mod:`.statement`, the same rules as
``contracts/aleo/zkxai_registry.aleo``), Aleo plaintext text (:mod:`.plaintext`), the mapping record
(:mod:`.record`), the Aleo account keystore (:mod:`.keystore`), the SDK bridge (:mod:`.sdk`, a Node.js child process
running ``sdk_bridge.mjs`` on the pinned ``@provablehq/sdk``), the snarkOS REST v2 and delegated-prover client
(:mod:`.rest`), and :class:`~.adapter.AleoAdapter` / :class:`~.adapter.AleoReader`. Errors: :mod:`.errors`.

May import only the standard library, eth-account (and eth-hash / eth-utils, which it brings), pycryptodome (which
eth-account brings: AES-GCM for the keystore), :mod:`node.chains.adapter`, :mod:`node.chains.binding` and
:mod:`node.errors`. Never torch, aiohttp, web3, :mod:`node.chain` (Ethereum) nor another chain's package: the
reader runs in the light verifier install.
"""
