"""A per-link salt, so a signing link's token can be recomputed and mailed again.

Links made before this revision have no salt; the first email that must carry one of
them again gives it a salted token in place (see services/partners.link_token).

Revision ID: 0016_signing_link_salts
Revises: 0015_export_runs
Create Date: 2026-12-04 23:00:24
"""
from alembic import op
import sqlalchemy as sa


revision = '0016_signing_link_salts'
down_revision = '0015_export_runs'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('signature_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token_salt', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('signature_requests', schema=None) as batch_op:
        batch_op.drop_column('token_salt')
