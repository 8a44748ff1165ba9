"""dedupe: verdict explanation, follow-up links, office reviews, the match index,
re-evaluated verdicts (R3)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""
import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('matched_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('match_part', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('match_detail', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('followup_of_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('review', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('reviewed_by', sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key('fk_submissions_matched_id', 'submissions', ['matched_id'], ['id'])
        batch_op.create_foreign_key('fk_submissions_followup_of_id', 'submissions', ['followup_of_id'], ['id'])
        batch_op.create_index('ix_submissions_duplicate_of_id', ['duplicate_of_id'], unique=False)

    op.create_table('dedupe_texts',
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=32), nullable=False),
    sa.Column('numbers', sa.Text(), nullable=False),
    sa.Column('minhash', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ),
    sa.PrimaryKeyConstraint('submission_id')
    )
    with op.batch_alter_table('dedupe_texts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dedupe_texts_received_at'), ['received_at'], unique=False)

    op.create_table('dedupe_bands',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('band_key', sa.BigInteger(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('dedupe_bands', schema=None) as batch_op:
        batch_op.create_index('ix_dedupe_bands_lookup', ['band_key', 'received_at', 'submission_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_dedupe_bands_submission_id'), ['submission_id'], unique=False)

    op.create_table('dedupe_reviews',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('decision', sa.String(length=16), nullable=False),
    sa.Column('of_id', sa.Integer(), nullable=True),
    sa.Column('by', sa.String(length=200), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('previous_status', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['of_id'], ['submissions.id'], ),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('dedupe_reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dedupe_reviews_submission_id'), ['submission_id'], unique=False)

    op.create_table('verdict_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('caused_by_id', sa.Integer(), nullable=False),
    sa.Column('previous_status', sa.String(length=16), nullable=False),
    sa.Column('previous_duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('duplicate_of_id', sa.Integer(), nullable=True),
    sa.Column('reported', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['caused_by_id'], ['submissions.id'], ),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['submissions.id'], ),
    sa.ForeignKeyConstraint(['previous_duplicate_of_id'], ['submissions.id'], ),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('verdict_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verdict_changes_submission_id'), ['submission_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_verdict_changes_reported'), ['reported'], unique=False)


def downgrade() -> None:
    op.drop_table('verdict_changes')
    op.drop_table('dedupe_reviews')
    op.drop_table('dedupe_bands')
    op.drop_table('dedupe_texts')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_duplicate_of_id')
        batch_op.drop_constraint('fk_submissions_followup_of_id', type_='foreignkey')
        batch_op.drop_constraint('fk_submissions_matched_id', type_='foreignkey')
        for column in ('reviewed_at', 'reviewed_by', 'review', 'followup_of_id',
                       'match_detail', 'match_part', 'matched_id'):
            batch_op.drop_column(column)
