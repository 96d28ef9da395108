"""Judgments: the grades users give candidates (every row kept; the latest per pair counts).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "judgments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("challenge_id", sa.String(128), nullable=False),
        sa.Column("org_id", sa.String(200), nullable=False),
        sa.Column("grade", sa.Integer, nullable=False),
        sa.Column("note", sa.Text, nullable=True),
        sa.Column("challenge_text", sa.Text, nullable=False),
        sa.Column("challenge_area", sa.String(200), nullable=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("grade IN (0, 1, 2)", name="ck_judgments_grade"),
    )
    op.create_index("ix_judgments_pair", "judgments", ["challenge_id", "org_id"])


def downgrade() -> None:
    op.drop_index("ix_judgments_pair", table_name="judgments")
    op.drop_table("judgments")
