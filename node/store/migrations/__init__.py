"""Alembic schema migrations of the node's database (run automatically at start: ``node.store.db.make_engine``)."""
