"""A partner's coalition role (lead or co-lead organisation), listed first on the letter.

Revision ID: 0014_partner_roles
Revises: 0013_personal_signatures
Create Date: 2026-11-27 21:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014_partner_roles'
down_revision = '0013_personal_signatures'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('coalition_role', sa.String(length=16), nullable=False, server_default='')
        )


def downgrade():
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.drop_column('coalition_role')
