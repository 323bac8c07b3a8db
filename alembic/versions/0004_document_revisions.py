"""Documents fetched from a URL keep their identity when the page changes: a revision
number names each version of their content, and the URL finds the document again.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "documents", sa.Column("revision", sa.Integer, nullable=False, server_default="1")
    )
    op.create_index(
        "documents_widget_id_source_url_idx",
        "documents",
        ["widget_id", "source_url"],
        postgresql_where=sa.text("source_url IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("documents_widget_id_source_url_idx", table_name="documents")
    op.drop_column("documents", "revision")
