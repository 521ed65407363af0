"""The stages one prediction goes through, each storing its result before handing on: intake -> inference
(explainers) -> prove (prover pool) -> submit -> confirm; single mode (:mod:`~node.pipeline.engine`) and batch mode
(:mod:`~node.pipeline.batch_stage`, :mod:`~node.pipeline.batching`) side by side.

May import :mod:`node.store`, :mod:`node.verify` (disclosure bundles), :mod:`node.chains` (the adapter contract,
:mod:`node.chains.adapter`, only: never a concrete chain), ``explainers``, ``prover``, ``circuits`` and the shared
leaves; never :mod:`node.api` or :mod:`node.cli`.
"""
