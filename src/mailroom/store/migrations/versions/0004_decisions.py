"""decisions: the office's decisions (adoptions, 批示, assignments, reviews) and the
confirmation codes of command mails

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('decisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('by', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('message_pk', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['message_pk'], ['messages.id'], ),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('decisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decisions_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_decisions_submission_id'), ['submission_id'], unique=False)

    op.create_table('adoptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=200), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('by', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], ),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('submission_id', 'channel', name='uq_adoptions_channel')
    )
    with op.batch_alter_table('adoptions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_adoptions_submission_id'), ['submission_id'], unique=False)

    op.create_table('instructions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('leader', sa.String(length=200), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('by', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['decision_id'], ['decisions.id'], ),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('instructions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_instructions_submission_id'), ['submission_id'], unique=False)

    op.create_table('command_confirmations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('message_pk', sa.Integer(), nullable=False),
    sa.Column('request_message_id', sa.String(length=300), nullable=False),
    sa.Column('commands', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('used_at', sa.DateTime(), nullable=True),
    sa.Column('used_by_pk', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['message_pk'], ['messages.id'], ),
    sa.ForeignKeyConstraint(['used_by_pk'], ['messages.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('command_confirmations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_command_confirmations_address'), ['address'], unique=False)
        batch_op.create_index(batch_op.f('ix_command_confirmations_request_message_id'), ['request_message_id'], unique=False)


def downgrade() -> None:
    op.drop_table('command_confirmations')
    op.drop_table('instructions')
    op.drop_table('adoptions')
    op.drop_table('decisions')
