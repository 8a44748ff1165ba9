"""officers.registered_by: who registered an officer from the CLI or the console

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('officers') as batch:
        batch.add_column(sa.Column('registered_by', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('officers') as batch:
        batch.drop_column('registered_by')
