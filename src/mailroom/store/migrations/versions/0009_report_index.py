"""report index: submissions by month, unit, status, sender (and number), so a report's
GROUP BY and its adoption join read the index alone (benchmarks/reports.py)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index('ix_submissions_report',
                              ['month', 'unit', 'status', 'sender', 'number'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_report')
