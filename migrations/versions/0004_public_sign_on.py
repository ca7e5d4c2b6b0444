"""Public sign-on: public links, blocked sources, partner source and moderation fields.

Revision ID: 0004_public_sign_on
Revises: 0003_forwarding_consent
Create Date: 2026-11-27 17:50:00

Existing partners were all invited, so `source` defaults to 'invited' on the server too.
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_public_sign_on'
down_revision = '0003_forwarding_consent'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'public_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('token', sa.String(length=64), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'],
                                name=op.f('fk_public_links_campaign_id_campaigns'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_public_links')),
        sa.UniqueConstraint('campaign_id', name=op.f('uq_public_links_campaign_id')),
        sa.UniqueConstraint('token', name=op.f('uq_public_links_token')),
    )
    op.create_table(
        'blocked_sources',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('value', sa.String(length=254), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'],
                                name=op.f('fk_blocked_sources_campaign_id_campaigns'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_blocked_sources')),
        sa.UniqueConstraint('campaign_id', 'kind', 'value',
                            name=op.f('uq_blocked_sources_campaign_id_kind_value')),
    )
    with op.batch_alter_table('blocked_sources', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_blocked_sources_campaign_id'), ['campaign_id'],
                              unique=False)

    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('source', sa.String(length=16), nullable=False, server_default='invited')
        )

    with op.batch_alter_table('signature_requests', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('moderated_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('moderated_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column('moderation_reason', sa.Text(), nullable=False, server_default='')
        )
        batch_op.create_foreign_key(
            batch_op.f('fk_signature_requests_moderated_by_id_users'),
            'users', ['moderated_by_id'], ['id'], ondelete='SET NULL',
        )


def downgrade():
    with op.batch_alter_table('signature_requests', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_signature_requests_moderated_by_id_users'),
                                 type_='foreignkey')
        batch_op.drop_column('moderation_reason')
        batch_op.drop_column('moderated_by_id')
        batch_op.drop_column('moderated_at')
        batch_op.drop_column('confirmed_at')

    with op.batch_alter_table('partners', schema=None) as batch_op:
        batch_op.drop_column('source')

    with op.batch_alter_table('blocked_sources', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_blocked_sources_campaign_id'))
    op.drop_table('blocked_sources')
    op.drop_table('public_links')
