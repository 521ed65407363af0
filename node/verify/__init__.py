"""Everything ``zkxai verify`` and ``zkxai show`` need, for third parties: disclosure bundles and their digests,
the report and its exit codes, trust anchors and trust files, single and batched checks on Ethereum, and one
record read back from Aleo or ICP (:mod:`.chain_record`).

Light install: imports :mod:`node.chains` (record readers), ``prover``, ``circuits`` and the shared leaves; never
torch, aiohttp, :mod:`node.pipeline`, :mod:`node.api` or :mod:`node.store`.
"""
