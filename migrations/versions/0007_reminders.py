"""Reminders: each campaign's reminder days, and which reminders each partner has had.

Revision ID: 0007_reminders
Revises: 0006_outbox_reliability
Create Date: 2026-11-27 18:35:00

Existing campaigns get the default schedule, 7 and 1 days before the deadline.
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_reminders'
down_revision = '0006_outbox_reliability'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'reminders_sent',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('partner_id', sa.Integer(), nullable=False),
        sa.Column('days_before', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['partner_id'], ['partners.id'],
                                name=op.f('fk_reminders_sent_partner_id_partners'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reminders_sent')),
        sa.UniqueConstraint('partner_id', 'days_before',
                            name=op.f('uq_reminders_sent_partner_id_days_before')),
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('reminder_days', sa.String(length=40), nullable=False, server_default='7,1')
        )


def downgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('reminder_days')
    op.drop_table('reminders_sent')
