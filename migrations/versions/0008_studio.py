"""Letter studio: draft revisions, co-lead review, letterhead look, re-consent history.

Revision ID: 0008_studio
Revises: 0007_reminders
Create Date: 2026-11-27 19:31:02

Existing members become organisers, existing campaigns get the default look, and every
existing signature gets its first history row (the version it was signed on).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_studio'
down_revision = '0007_reminders'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('colead_invites',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('invited_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('accepted_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_colead_invites_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_colead_invites_invited_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_colead_invites_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_colead_invites')),
    sa.UniqueConstraint('token_sha256', name=op.f('uq_colead_invites_token_sha256'))
    )
    op.create_table('letter_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_letter_revisions_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['version_id'], ['letter_versions.id'], name=op.f('fk_letter_revisions_version_id_letter_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_letter_revisions'))
    )
    with op.batch_alter_table('letter_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_letter_revisions_version_id'), ['version_id'], unique=False)

    op.create_table('review_comments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('paragraph', sa.Integer(), nullable=False),
    sa.Column('quote', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.Column('resolved_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_review_comments_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_review_comments_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], name=op.f('fk_review_comments_resolved_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['version_id'], ['letter_versions.id'], name=op.f('fk_review_comments_version_id_letter_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_comments'))
    )
    with op.batch_alter_table('review_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_comments_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('signed_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('signature_id', sa.Integer(), nullable=False),
    sa.Column('letter_version_id', sa.Integer(), nullable=False),
    sa.Column('letter_sha256', sa.String(length=64), nullable=False),
    sa.Column('how', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['letter_version_id'], ['letter_versions.id'], name=op.f('fk_signed_versions_letter_version_id_letter_versions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['signature_id'], ['signatures.id'], name=op.f('fk_signed_versions_signature_id_signatures'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_signed_versions'))
    )
    with op.batch_alter_table('signed_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_signed_versions_signature_id'), ['signature_id'], unique=False)

    with op.batch_alter_table('campaign_members', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('role', sa.String(length=16), nullable=False, server_default='organiser')
        )

    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lead_logo_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('accent_colour', sa.String(length=7), nullable=False,
                                      server_default='#1d4e89'))
        batch_op.add_column(sa.Column('page_size', sa.String(length=8), nullable=False,
                                      server_default='A4'))
        batch_op.add_column(sa.Column('margin_mm', sa.Integer(), nullable=False, server_default='20'))
        batch_op.add_column(sa.Column('signature_style', sa.String(length=16), nullable=False,
                                      server_default='list'))
        batch_op.add_column(sa.Column('list_earlier_signers', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_foreign_key(batch_op.f('fk_campaigns_lead_logo_sha256_blobs'), 'blobs', ['lead_logo_sha256'], ['sha256'])

    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('postal_address', sa.Text(), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('fallback_email', sa.String(length=254), nullable=False,
                                      server_default=''))

    op.execute(
        "INSERT INTO signed_versions (signature_id, letter_version_id, letter_sha256, how, "
        "created_at) SELECT id, letter_version_id, letter_sha256, 'signed', signed_at "
        "FROM signatures"
    )



def downgrade():
    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.drop_column('fallback_email')
        batch_op.drop_column('postal_address')

    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_campaigns_lead_logo_sha256_blobs'), type_='foreignkey')
        batch_op.drop_column('list_earlier_signers')
        batch_op.drop_column('signature_style')
        batch_op.drop_column('margin_mm')
        batch_op.drop_column('page_size')
        batch_op.drop_column('accent_colour')
        batch_op.drop_column('lead_logo_sha256')

    with op.batch_alter_table('campaign_members', schema=None) as batch_op:
        batch_op.drop_column('role')

    with op.batch_alter_table('signed_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_signed_versions_signature_id'))

    op.drop_table('signed_versions')
    with op.batch_alter_table('review_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_comments_campaign_id'))

    op.drop_table('review_comments')
    with op.batch_alter_table('letter_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_letter_revisions_version_id'))

    op.drop_table('letter_revisions')
    op.drop_table('colead_invites')
