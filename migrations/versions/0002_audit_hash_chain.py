"""Audit hash chain: each campaign's audit events carry their place and chained sha256.

Revision ID: 0002_audit_chain
Revises: 0001_initial
Create Date: 2026-11-27 17:20:00

Events written before this revision keep NULL in the new columns and stay outside the
chain; the chain starts with the first event written after the upgrade.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_audit_chain'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('prev_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('entry_sha256', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f('uq_audit_events_campaign_id_seq'), ['campaign_id', 'seq']
        )


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_events_campaign_id_seq'), type_='unique')
        batch_op.drop_column('entry_sha256')
        batch_op.drop_column('prev_sha256')
        batch_op.drop_column('seq')
