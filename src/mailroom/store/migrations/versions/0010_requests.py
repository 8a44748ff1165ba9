"""requests: 约稿 (R14), the units each asks (with the request mail's Message-ID) and the
submissions linked to them

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('due', sa.String(length=10), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('message_pk', sa.Integer(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('closed_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['message_pk'], ['messages.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code'),
    sa.UniqueConstraint('month', 'sequence', name='uq_requests_month_sequence')
    )
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_requests_due'), ['due'], unique=False)
        batch_op.create_index(batch_op.f('ix_requests_month'), ['month'], unique=False)
        batch_op.create_index(batch_op.f('ix_requests_status'), ['status'], unique=False)

    op.create_table('request_units',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('unit', sa.String(length=200), nullable=False),
    sa.Column('message_id', sa.String(length=300), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id', 'unit', name='uq_request_units_unit')
    )
    with op.batch_alter_table('request_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_units_message_id'), ['message_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_request_units_request_id'), ['request_id'],
                              unique=False)

    op.create_table('request_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('how', sa.String(length=8), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('linked_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], ),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_id', 'submission_id', name='uq_request_links_pair')
    )
    with op.batch_alter_table('request_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_request_links_request_id'), ['request_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_request_links_submission_id'), ['submission_id'],
                              unique=False)


def downgrade() -> None:
    op.drop_table('request_links')
    op.drop_table('request_units')
    op.drop_table('requests')
