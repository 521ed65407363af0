"""proven levels: models registered at level inference / explanation (quantized form, keys, their own registry), and
each request's level

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    # a database adopted from before migrations (node.store.db._adopt_unversioned) already got these from the models
    if "level" not in {c["name"] for c in inspector.get_columns("attestations")}:
        op.add_column('attestations', sa.Column('level', sqlmodel.sql.sqltypes.AutoString(), nullable=True))
    if "proven_models" in inspector.get_table_names():
        return
    op.create_table('proven_models',
    sa.Column('model_hash', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('level', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('qnet', sa.Text(), nullable=False),
    sa.Column('model_commitment', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('r1cs_digest', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('constraints', sa.Integer(), nullable=False),
    sa.Column('chain_id', sa.BigInteger(), nullable=False),
    sa.Column('registry_address', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('verifier', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('vk_sha256', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('agreement', sa.Float(), nullable=True),
    sa.Column('deploy_gas', sa.Integer(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('model_hash', 'level', 'method')
    )


def downgrade() -> None:
    op.drop_table('proven_models')
    op.drop_column('attestations', 'level')
