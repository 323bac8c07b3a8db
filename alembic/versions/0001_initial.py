"""Initial schema: widgets, documents and their bytes, jobs, conversations, usage.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, BYTEA, JSONB, UUID

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def timestamp(name: str, **kwargs) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False, **kwargs)


def cascading_fk(target: str) -> sa.ForeignKey:
    return sa.ForeignKey(target, ondelete="CASCADE")


def upgrade() -> None:
    op.create_table(
        "widgets",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("plan", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("public_key", sa.Text, nullable=False, unique=True),
        sa.Column("allowed_origins", ARRAY(sa.Text), nullable=False, server_default="{}"),
        sa.Column("system_prompt", sa.Text, nullable=False),
        sa.Column("no_answer_message", sa.Text, nullable=False),
        sa.Column("top_k", sa.Integer, nullable=False),
        timestamp("created_at"),
        timestamp("updated_at"),
        sa.CheckConstraint("plan IN ('free', 'paid')", name="widgets_plan_check"),
    )

    op.create_table(
        "documents",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("widget_id", UUID, cascading_fk("widgets.id"), nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("content_type", sa.Text, nullable=False),
        sa.Column("size_bytes", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.Text, nullable=False),
        sa.Column("source_url", sa.Text),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("stage", sa.Text),
        sa.Column("progress_done", sa.Integer, nullable=False, server_default="0"),
        sa.Column("progress_total", sa.Integer, nullable=False, server_default="0"),
        sa.Column("chunk_count", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
        timestamp("created_at"),
        timestamp("updated_at"),
        sa.UniqueConstraint("widget_id", "sha256", name="documents_widget_id_sha256_key"),
        sa.CheckConstraint(
            "status IN ('queued', 'processing', 'ready', 'failed')", name="documents_status_check"
        ),
    )

    # Kept apart from documents so that listing and status reads never touch the bytes.
    op.create_table(
        "document_contents",
        sa.Column("document_id", UUID, cascading_fk("documents.id"), primary_key=True),
        sa.Column("content", BYTEA, nullable=False),
    )

    op.create_table(
        "jobs",
        sa.Column("id", UUID, primary_key=True),
        sa.Column(
            "document_id", UUID, cascading_fk("documents.id"), nullable=False, unique=True
        ),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        timestamp("available_at"),
        sa.Column("leased_until", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text),
        timestamp("created_at", server_default=sa.func.now()),
        timestamp("updated_at", server_default=sa.func.now()),
        sa.CheckConstraint(
            "state IN ('queued', 'running', 'done', 'failed')", name="jobs_state_check"
        ),
    )
    op.create_index("jobs_state_available_at_idx", "jobs", ["state", "available_at"])

    op.create_table(
        "conversations",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("widget_id", UUID, cascading_fk("widgets.id"), nullable=False),
        sa.Column("visitor_id", sa.Text),
        timestamp("created_at"),
    )
    # Lets a widget's deletion find its conversations without a scan.
    op.create_index("conversations_widget_id_idx", "conversations", ["widget_id"])

    op.create_table(
        "messages",
        sa.Column("id", UUID, primary_key=True),
        # Insertion order, to keep messages written in the same instant in order.
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("conversation_id", UUID, cascading_fk("conversations.id"), nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("model", sa.Text),
        sa.Column("sources", JSONB, nullable=False, server_default="[]"),
        sa.Column("input_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("output_tokens", sa.Integer, nullable=False, server_default="0"),
        sa.Column("cost_usd", sa.Numeric(14, 8), nullable=False, server_default="0"),
        sa.Column("finish_reason", sa.Text),
        timestamp("created_at"),
        sa.CheckConstraint("role IN ('user', 'assistant')", name="messages_role_check"),
    )
    op.create_index(
        "messages_conversation_id_created_at_idx",
        "messages",
        ["conversation_id", "created_at", "seq"],
    )

    # No foreign key to widgets: usage outlives a deleted widget, for billing.
    op.create_table(
        "usage_events",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("widget_id", UUID, nullable=False),
        sa.Column("conversation_id", UUID, nullable=False),
        sa.Column("message_id", UUID, nullable=False),
        sa.Column("plan", sa.Text, nullable=False),
        sa.Column("model", sa.Text, nullable=False),
        sa.Column("input_tokens", sa.Integer, nullable=False),
        sa.Column("output_tokens", sa.Integer, nullable=False),
        sa.Column("cost_usd", sa.Numeric(14, 8), nullable=False),
        sa.Column("cached", sa.Boolean, nullable=False, server_default=sa.false()),
        timestamp("created_at"),
    )
    op.create_index(
        "usage_events_tenant_id_created_at_idx", "usage_events", ["tenant_id", "created_at"]
    )


def downgrade() -> None:
    for table in (
        "usage_events",
        "messages",
        "conversations",
        "jobs",
        "document_contents",
        "documents",
        "widgets",
    ):
        op.drop_table(table)
