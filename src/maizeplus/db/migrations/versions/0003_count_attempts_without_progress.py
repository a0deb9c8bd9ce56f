"""count attempts without progress

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 20:00:00

A job that a deploy restarts several times while it makes progress is no
crashing file; the attempt limit counts only attempts since the last one that
committed a chunk.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("import_jobs") as batch:
        batch.add_column(
            sa.Column(
                "progress_attempt", sa.Integer(), server_default="0", nullable=False
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("import_jobs") as batch:
        batch.drop_column("progress_attempt")
