"""Persistence: sqlmodel rows and engines (:mod:`~node.store.db`), Alembic migrations (``migrations/``), and the
deployments a node remembers per chain (:mod:`~node.store.deployments`).

May import :mod:`node.chains` (the adapter contract only, to deploy, attach and check a remembered deployment),
:mod:`node.verify` (the verifying-key digest) and the shared leaves.
"""
