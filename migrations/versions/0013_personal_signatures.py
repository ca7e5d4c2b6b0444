"""Personal signatures: a typed signature or a drawn one (a stored, checked image).

Revision ID: 0013_personal_signatures
Revises: 0012_followups
Create Date: 2026-11-27 20:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013_personal_signatures'
down_revision = '0012_followups'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('signature_typed', sa.String(length=200), nullable=False, server_default='')
        )
        batch_op.add_column(sa.Column('signature_image_sha256', sa.String(length=64), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_signatures_signature_image_sha256_blobs'), 'blobs',
            ['signature_image_sha256'], ['sha256'],
        )


def downgrade():
    with op.batch_alter_table('signatures', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_signatures_signature_image_sha256_blobs'), type_='foreignkey'
        )
        batch_op.drop_column('signature_image_sha256')
        batch_op.drop_column('signature_typed')
