"""Internet Computer: the trust core (certified answers) and the ICP adapter of the registry canister.

Trust core: a strict CBOR codec (:mod:`.cbor`), unsigned LEB128 (:mod:`.leb128`), the certified hash tree
(:mod:`.hashtree`), principals and canister ranges (:mod:`.principal`), the DER envelope of BLS public keys
(:mod:`.der`), the IC mainnet root key (:mod:`.root_key`), BLS12-381 min-sig verification with a pure-Python backend and optional fast ones (:mod:`.bls`,
:mod:`.bls_pyecc`, :mod:`.bls_blst`, :mod:`.bls_arkworks`), certificate verification with delegation, scope and
freshness checks (:mod:`.certificate`), and request ids (:mod:`.request_id`). Errors: :mod:`.errors`.

Agent and adapter: an Ed25519 identity and its keystore (:mod:`.identity`), request envelopes (:mod:`.envelope`),
a minimal Candid codec (:mod:`.candid`) and the registry's Candid types (:mod:`.registry_candid`), the agent
(:mod:`.agent`: update calls, queries, read_state, all certificates verified), the registry's record encoding and
hash tree mirrored from contracts/icp (:mod:`.registry_record`, :mod:`.registry_tree`), the verification of a
registry answer down to the root key (:mod:`.registry_view`), and :mod:`.adapter` (``IcpAdapter``, ``IcpReader``).

May import only the standard library, ``py_ecc``, the optional fast BLS wheels (``pyblst``,
``py_arkworks_bls12381``), what the base install brings with eth-account (``pycryptodome`` for Ed25519,
``eth-keyfile`` for the keystore, ``eth-hash`` through :mod:`node.chains.binding`), :mod:`circuits.field`,
:mod:`node.errors` and :mod:`node.chains.adapter`. Never web3, torch or aiohttp: a light verifier can use it.
"""
