"""Webhook batches: SendGrid event posts are stored as received, then applied by a job.

Revision ID: 0009_webhook_batches
Revises: 0008_studio
Create Date: 2026-11-27 20:05:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009_webhook_batches'
down_revision = '0008_studio'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'webhook_batches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('event_count', sa.Integer(), nullable=False),
        sa.Column('received_at', sa.DateTime(), nullable=False),
        sa.Column('processed_at', sa.DateTime(), nullable=True),
        sa.Column('new_events', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_batches')),
    )
    with op.batch_alter_table('webhook_batches', schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f('ix_webhook_batches_processed_at'), ['processed_at'], unique=False
        )


def downgrade():
    with op.batch_alter_table('webhook_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_batches_processed_at'))
    op.drop_table('webhook_batches')
