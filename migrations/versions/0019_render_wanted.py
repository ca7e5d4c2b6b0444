"""Render ahead: campaigns whose letter changed and whose PDFs are wanted before a click.

Revision ID: 0019_render_wanted
Revises: 0018_session_tokens
Create Date: 2026-12-04 23:02:48
"""
from alembic import op
import sqlalchemy as sa


revision = '0019_render_wanted'
down_revision = '0018_session_tokens'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'render_wanted',
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('wanted_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ['campaign_id'], ['campaigns.id'],
            name=op.f('fk_render_wanted_campaign_id_campaigns'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('campaign_id', name=op.f('pk_render_wanted')),
    )


def downgrade():
    op.drop_table('render_wanted')
