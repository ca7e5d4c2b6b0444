"""Export ZIPs made by a job: progress for the export page, the file, and when it finished.

Revision ID: 0015_export_runs
Revises: 0014_partner_roles
Create Date: 2026-11-27 22:05:16
"""
from alembic import op
import sqlalchemy as sa


revision = '0015_export_runs'
down_revision = '0014_partner_roles'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'export_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False, server_default='queued'),
        sa.Column('done', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('total', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('step', sa.String(length=300), nullable=False, server_default=''),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('zip_sha256', sa.String(length=64), nullable=True),
        sa.Column('manifest', sa.Text(), nullable=False, server_default=''),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ['campaign_id'], ['campaigns.id'],
            name=op.f('fk_export_runs_campaign_id_campaigns'), ondelete='CASCADE',
        ),
        sa.ForeignKeyConstraint(
            ['requested_by_id'], ['users.id'],
            name=op.f('fk_export_runs_requested_by_id_users'), ondelete='SET NULL',
        ),
        sa.ForeignKeyConstraint(
            ['zip_sha256'], ['blobs.sha256'], name=op.f('fk_export_runs_zip_sha256_blobs'),
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_export_runs')),
    )
    with op.batch_alter_table('export_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_export_runs_campaign_id'), ['campaign_id'], unique=False)


def downgrade():
    with op.batch_alter_table('export_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_export_runs_campaign_id'))
    op.drop_table('export_runs')
