"""Internet Computer: verification of certified answers (the trust core of the ICP adapter).

Owns the IC's wire and trust formats: a strict CBOR codec (:mod:`.cbor`), unsigned LEB128 (:mod:`.leb128`),
the certified hash tree (:mod:`.hashtree`), principals and canister ranges (:mod:`.principal`), the DER
envelope of BLS public keys (:mod:`.der`), BLS12-381 min-sig verification with a pure-Python backend and
optional fast ones (:mod:`.bls`, :mod:`.bls_pyecc`, :mod:`.bls_blst`, :mod:`.bls_arkworks`), certificate
verification with delegation, scope and freshness checks (:mod:`.certificate`), and request ids, the
representation-independent hash of a request's content (:mod:`.request_id`). Errors: :mod:`.errors`.

May import only the standard library, ``py_ecc``, the optional fast BLS wheels (``pyblst``,
``py_arkworks_bls12381``) and :mod:`node.errors` (the node's exception root, itself stdlib-only).
Never web3, torch or aiohttp: a light verifier can use this package alone.
"""
