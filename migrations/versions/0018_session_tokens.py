"""A session token on each account: logging out replaces it, ending every copied cookie.

Revision ID: 0018_session_tokens
Revises: 0017_reply_scope
Create Date: 2026-12-04 23:01:53
"""
import secrets

from alembic import op
import sqlalchemy as sa


revision = '0018_session_tokens'
down_revision = '0017_reply_scope'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_token', sa.String(length=32), nullable=True))
    # A random token per existing account (sessions from before sign in again once).
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('session_token', sa.String))
    conn = op.get_bind()
    for (user_id,) in conn.execute(sa.select(users.c.id)).all():
        conn.execute(
            users.update().where(users.c.id == user_id).values(session_token=secrets.token_hex(16))
        )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('session_token', existing_type=sa.String(length=32), nullable=False)


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_token')
