"""job_progress: each job's progress reports (its gap curve), bounded per job.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_progress",
        sa.Column("point_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "job_id",
            sa.String(32),
            sa.ForeignKey("jobs.job_id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("incumbent_musd", sa.Float, nullable=True),
        sa.Column("best_bound_musd", sa.Float, nullable=True),
        sa.Column("gap_frac", sa.Float, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("job_progress")
