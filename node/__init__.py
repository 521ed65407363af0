"""zkxai node: an async service that runs a model, explains and commits each prediction, proves it and records it
on chains; and the light verifier third parties run (``zkxai verify`` / ``zkxai show``).

Laid out by role, one subpackage each; imports go one way, down this list (a role imports only roles below it):

- :mod:`node.cli`      the ``zkxai`` command (node, keys, verify, show, trust, demo): wiring only.
- :mod:`node.api`      the aiohttp service: handlers, OpenAPI, auth, limits, the HTTP server.
- :mod:`node.pipeline` the stages a request goes through: intake, inference, prove, submit, confirm (single and batch).
- :mod:`node.store`    persistence: sqlmodel rows, Alembic migrations, remembered deployments.
- :mod:`node.verify`   everything ``zkxai verify`` and ``zkxai show`` need (light install: no torch, no aiohttp).
- :mod:`node.chains`   the chain adapter contract and one subpackage per chain (ethereum, aleo, icp).

Shared leaf modules, importing nothing else of ``node``: :mod:`node.errors` (the exception root), :mod:`node.json_guard`
(depth/size-limited JSON), :mod:`node.config` / :mod:`node.settings` (configuration), :mod:`node.keystore`,
:mod:`node.metrics`, :mod:`node.logs`. Outside ``node``: ``explainers`` and ``circuits`` (no zkxai imports) and
``prover`` (imports ``circuits``).
"""
