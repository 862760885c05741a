"""Alembic environment: always runs on a connection handed in by `storage.migrate`."""

from __future__ import annotations

from alembic import context

import storage.agent_models
import storage.privacy_models
import storage.referral_models
import storage.security_models
import storage.slack_models  # noqa: F401
from storage.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `privacybot db upgrade`, which supplies the connection")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
