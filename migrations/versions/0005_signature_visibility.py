"""Signer options: a signature is listed, listed only after delivery, or private.

Revision ID: 0005_signature_visibility
Revises: 0004_public_sign_on
Create Date: 2026-11-27 18:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_signature_visibility'
down_revision = '0004_public_sign_on'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('visibility', sa.String(length=16), nullable=False, server_default='listed')
        )


def downgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_column('visibility')
