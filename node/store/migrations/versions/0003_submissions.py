"""submissions: one row per prediction and extra chain target (Aleo, ICP, ...), each proven and confirmed on its own

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a database adopted from before migrations (node.store.db._adopt_unversioned) already got the table from the models
    if "submissions" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table('submissions',
    sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('chain', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('proof', sa.Text(), nullable=True),
    sa.Column('attestation_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('tx_id', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('height', sa.BigInteger(), nullable=True),
    sa.Column('attester', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('registry_address', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('network', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('cost', sa.BigInteger(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('request_id', 'chain')
    )
    op.create_index(op.f('ix_submissions_status'), 'submissions', ['status'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_submissions_status'), table_name='submissions')
    op.drop_table('submissions')
