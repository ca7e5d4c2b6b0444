"""Forwarded signing links (who each link went to, and the link it replaced) and contact consent.

Revision ID: 0003_forwarding_consent
Revises: 0002_audit_chain
Create Date: 2026-11-27 17:30:00

The new text columns get a server default of '' so existing rows stay valid.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_forwarding_consent'
down_revision = '0002_audit_chain'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('signature_requests', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('addressee_name', sa.String(length=200), nullable=False, server_default='')
        )
        batch_op.add_column(
            sa.Column('addressee_email', sa.String(length=254), nullable=False, server_default='')
        )
        batch_op.add_column(sa.Column('forwarded_from_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_signature_requests_forwarded_from_id_signature_requests'),
            'signature_requests', ['forwarded_from_id'], ['id'], ondelete='SET NULL',
        )

    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('contact_consent', sa.Text(), nullable=False, server_default='')
        )
        batch_op.add_column(sa.Column('contact_consent_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_column('contact_consent_at')
        batch_op.drop_column('contact_consent')

    with op.batch_alter_table('signature_requests', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_signature_requests_forwarded_from_id_signature_requests'),
            type_='foreignkey',
        )
        batch_op.drop_column('forwarded_from_id')
        batch_op.drop_column('addressee_email')
        batch_op.drop_column('addressee_name')
