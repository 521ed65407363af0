"""Persistence: sqlmodel rows and engines (:mod:`~node.store.db`), Alembic migrations (``migrations/``), and the
deployments a node remembers per chain (:mod:`~node.store.deployments`).

May import :mod:`node.chains` (to check a remembered deployment is still there) and the shared leaves.
"""
