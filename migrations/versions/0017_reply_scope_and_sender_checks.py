"""Replies: the campaign an unmatched reply belongs to, sender checks, held replies.

Revision ID: 0017_reply_scope
Revises: 0016_signing_link_salts
Create Date: 2026-12-04 23:16:41
"""
from alembic import op
import sqlalchemy as sa


revision = '0017_reply_scope'
down_revision = '0016_signing_link_salts'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('inbound_replies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('inbox_campaign_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('spf', sa.String(length=32), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('dkim', sa.String(length=500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('held_reason', sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column('released_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('released_by_id', sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f('ix_inbound_replies_inbox_campaign_id'), ['inbox_campaign_id'], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_inbound_replies_released_by_id_users'),
            'users', ['released_by_id'], ['id'], ondelete='SET NULL',
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_inbound_replies_inbox_campaign_id_campaigns'),
            'campaigns', ['inbox_campaign_id'], ['id'], ondelete='SET NULL',
        )
    # Replies already waiting in the inbox: the campaign whose letter carried the address
    # they were sent to. Any other stays with the admins.
    op.execute(
        """
        UPDATE inbound_replies SET inbox_campaign_id = (
            SELECT MIN(outbound_emails.campaign_id) FROM outbound_emails
            WHERE lower(outbound_emails.reply_to) = lower(inbound_replies.to_address)
        )
        WHERE campaign_id IS NULL AND to_address <> ''
        """
    )


def downgrade():
    with op.batch_alter_table('inbound_replies', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_inbound_replies_inbox_campaign_id_campaigns'), type_='foreignkey'
        )
        batch_op.drop_constraint(
            batch_op.f('fk_inbound_replies_released_by_id_users'), type_='foreignkey'
        )
        batch_op.drop_index(batch_op.f('ix_inbound_replies_inbox_campaign_id'))
        batch_op.drop_column('released_by_id')
        batch_op.drop_column('released_at')
        batch_op.drop_column('held_reason')
        batch_op.drop_column('dkim')
        batch_op.drop_column('spf')
        batch_op.drop_column('inbox_campaign_id')
