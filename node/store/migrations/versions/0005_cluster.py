"""cluster: the replica that holds a request's row and until when (attestations.owner / lease_until), and the
leases table (one submitter per chain, with a fencing token)

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    # a database adopted from before migrations (node.store.db._adopt_unversioned) already got these from the models
    have = {c["name"] for c in inspector.get_columns("attestations")}
    if "owner" not in have:
        op.add_column('attestations', sa.Column('owner', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    if "lease_until" not in have:
        op.add_column('attestations', sa.Column('lease_until', sa.BigInteger(), nullable=True))
    if "leases" in inspector.get_table_names():
        return
    op.create_table('leases',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('token', sa.BigInteger(), nullable=False),
    sa.Column('expires_at', sa.BigInteger(), nullable=True),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('leases')
    op.drop_column('attestations', 'lease_until')
    op.drop_column('attestations', 'owner')
