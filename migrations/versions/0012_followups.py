"""Follow-up plans: steps sent to targets who have not responded, and what was sent.

Revision ID: 0012_followups
Revises: 0011_coalition_roles
Create Date: 2026-11-27 20:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012_followups'
down_revision = '0011_coalition_roles'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'followup_steps',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('campaign_id', sa.Integer(), nullable=False),
        sa.Column('days_after', sa.Integer(), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('notify_coalition', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'],
                                name=op.f('fk_followup_steps_campaign_id_campaigns'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_steps')),
    )
    with op.batch_alter_table('followup_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followup_steps_campaign_id'), ['campaign_id'],
                              unique=False)
    op.create_table(
        'followups_sent',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('step_id', sa.Integer(), nullable=False),
        sa.Column('target_id', sa.Integer(), nullable=False),
        sa.Column('email_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['email_id'], ['outbound_emails.id'],
                                name=op.f('fk_followups_sent_email_id_outbound_emails'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['step_id'], ['followup_steps.id'],
                                name=op.f('fk_followups_sent_step_id_followup_steps'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['target_id'], ['targets.id'],
                                name=op.f('fk_followups_sent_target_id_targets'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_followups_sent')),
        sa.UniqueConstraint('step_id', 'target_id',
                            name=op.f('uq_followups_sent_step_id_target_id')),
    )


def downgrade():
    op.drop_table('followups_sent')
    with op.batch_alter_table('followup_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followup_steps_campaign_id'))
    op.drop_table('followup_steps')
