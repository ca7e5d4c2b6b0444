"""Coalition roles: who added each partner, and whether co-leads see the whole list.

Revision ID: 0011_coalition_roles
Revises: 0010_replies_alerts_evidence
Create Date: 2026-11-27 20:20:00

Existing partners have no adder (they count as the lead's); co-leads keep seeing only
their own partners until an organiser shares the list.
"""
from alembic import op
import sqlalchemy as sa


revision = '0011_coalition_roles'
down_revision = '0010_replies_alerts_evidence'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('coleads_see_all_partners', sa.Boolean(), nullable=False,
                      server_default=sa.false())
        )
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('added_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f('fk_partners_added_by_id_users'), 'users', ['added_by_id'], ['id'],
            ondelete='SET NULL',
        )


def downgrade():
    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_partners_added_by_id_users'), type_='foreignkey')
        batch_op.drop_column('added_by_id')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('coleads_see_all_partners')
