"""one clip per upload, and a claim on a clip's probe

``clips.upload_id`` names the tus upload a clip was made from, unique, so two completions of
one upload (a retried last chunk) can never make two clips. ``clips.probe_claimed_at`` is the
probe stage's claim, so two deliveries of ``clip.probe`` never run at once.

Revision ID: 5b1e7c0d2a93
Revises: 0ea758f08b1e
Create Date: 2026-12-01 21:45:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '5b1e7c0d2a93'
down_revision: str | None = '0ea758f08b1e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('clips', schema=None) as batch_op:
        batch_op.add_column(sa.Column('upload_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('probe_claimed_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_clips_upload_id'), ['upload_id'])


def downgrade() -> None:
    with op.batch_alter_table('clips', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_clips_upload_id'), type_='unique')
        batch_op.drop_column('probe_claimed_at')
        batch_op.drop_column('upload_id')
