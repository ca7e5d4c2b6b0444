"""Replies, alerts and issued documents; reply-to and fallback chains on outbound emails.

Revision ID: 0010_replies_alerts_evidence
Revises: 0009_webhook_batches
Create Date: 2026-11-27 20:10:00

Existing signatures do not ask for updates (wants_updates false): nobody is opted in.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_replies_alerts_evidence'
down_revision = '0009_webhook_batches'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('inbound_replies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('to_address', sa.String(length=320), nullable=False),
    sa.Column('from_email', sa.String(length=254), nullable=False),
    sa.Column('from_name', sa.String(length=200), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('assigned_by_id', sa.Integer(), nullable=True),
    sa.Column('assigned_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['assigned_by_id'], ['users.id'], name=op.f('fk_inbound_replies_assigned_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_inbound_replies_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_id'], ['targets.id'], name=op.f('fk_inbound_replies_target_id_targets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_replies'))
    )
    with op.batch_alter_table('inbound_replies', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_replies_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('issued_documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('version_number', sa.Integer(), nullable=False),
    sa.Column('letter_sha256', sa.String(length=64), nullable=False),
    sa.Column('signatory_count', sa.Integer(), nullable=False),
    sa.Column('audit_head_sha256', sa.String(length=64), nullable=False),
    sa.Column('made_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_issued_documents_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_id'], ['targets.id'], name=op.f('fk_issued_documents_target_id_targets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issued_documents')),
    sa.UniqueConstraint('code', name=op.f('uq_issued_documents_code')),
    sa.UniqueConstraint('sha256', name=op.f('uq_issued_documents_sha256'))
    )
    with op.batch_alter_table('issued_documents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issued_documents_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=True),
    sa.Column('email_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('dismissed_at', sa.DateTime(), nullable=True),
    sa.Column('dismissed_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_alerts_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['dismissed_by_id'], ['users.id'], name=op.f('fk_alerts_dismissed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['email_id'], ['outbound_emails.id'], name=op.f('fk_alerts_email_id_outbound_emails'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['target_id'], ['targets.id'], name=op.f('fk_alerts_target_id_targets'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('inbound_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reply_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('mime', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('blob_sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['blob_sha256'], ['blobs.sha256'], name=op.f('fk_inbound_attachments_blob_sha256_blobs')),
    sa.ForeignKeyConstraint(['reply_id'], ['inbound_replies.id'], name=op.f('fk_inbound_attachments_reply_id_inbound_replies'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_attachments'))
    )
    with op.batch_alter_table('inbound_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_attachments_reply_id'), ['reply_id'], unique=False)

    with op.batch_alter_table('outbound_emails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_to', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('fallback_of_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_outbound_emails_fallback_of_id_outbound_emails'), 'outbound_emails', ['fallback_of_id'], ['id'], ondelete='SET NULL')

    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('wants_updates', sa.Boolean(), nullable=False, server_default=sa.false())
        )

    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('responded_at', sa.DateTime(), nullable=True))



def downgrade():
    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.drop_column('responded_at')

    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_column('wants_updates')

    with op.batch_alter_table('outbound_emails', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbound_emails_fallback_of_id_outbound_emails'), type_='foreignkey')
        batch_op.drop_column('fallback_of_id')
        batch_op.drop_column('reply_to')

    with op.batch_alter_table('inbound_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_attachments_reply_id'))

    op.drop_table('inbound_attachments')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_campaign_id'))

    op.drop_table('alerts')
    with op.batch_alter_table('issued_documents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issued_documents_campaign_id'))

    op.drop_table('issued_documents')
    with op.batch_alter_table('inbound_replies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inbound_replies_campaign_id'))

    op.drop_table('inbound_replies')
