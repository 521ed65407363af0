"""Alembic schema migrations of the node's database (run automatically at start: ``node.db.make_engine``)."""
