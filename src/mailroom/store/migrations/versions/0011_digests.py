"""digests: each office digest sent (R11) and the high-water marks of what it covered

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('digests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=300), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('last_message_pk', sa.Integer(), nullable=False),
    sa.Column('last_decision_id', sa.Integer(), nullable=False),
    sa.Column('message_gaps', sa.JSON(), nullable=False),
    sa.Column('decision_gaps', sa.JSON(), nullable=False),
    sa.Column('items', sa.Integer(), nullable=False),
    sa.Column('recipients', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id'),
    sa.UniqueConstraint('sequence')
    )


def downgrade() -> None:
    op.drop_table('digests')
