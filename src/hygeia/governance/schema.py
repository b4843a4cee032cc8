"""Governance tables (on the store's ``metadata``; migration ``0003_governance``).

- ``oauth_clients``: registered machine clients — SMART backend-services clients (``kind='backend'``)
  and CDS Hooks clients (``kind='cds'``, keyed by their JWT ``iss``) — with their JWKS (inline or by URL),
  the scopes they may be granted and the role they act in.
- ``jwt_replay``: the ``jti`` of every accepted client JWT until it expires (replay protection).
- ``token_scopes``: the narrowed SMART scopes of a password-issued bearer token (when asked for).
- ``cds_feedback``: CDS Hooks feedback (accepted / overridden with the reason) for the governance board.
- ``bulk_exports``: Bulk Data ``$export`` jobs, their progress and manifest.
"""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, DateTime, Index, Integer, String, Table, Text

from hygeia.records.schema import metadata

oauth_clients = Table(
    "oauth_clients",
    metadata,
    Column("client_id", String(255), primary_key=True),
    Column("kind", String(16), nullable=False),  # backend | cds
    Column("name", String(255), nullable=False),
    Column("role", String(64), nullable=False),
    Column("scope", Text, nullable=False),
    Column("jwks", JSON, nullable=True),
    Column("jwks_url", String(1000), nullable=True),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
)

jwt_replay = Table(
    "jwt_replay",
    metadata,
    Column("key", String(64), primary_key=True),  # SHA-256 of iss + jti
    Column("expires", DateTime(timezone=True), nullable=False),
    Index("ix_jwt_replay_expires", "expires"),
)

token_scopes = Table(
    "token_scopes",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("scope", Text, nullable=False),
)

cds_feedback = Table(
    "cds_feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("service", String(128), nullable=False),
    Column("card", String(128), nullable=False),
    Column("outcome", String(16), nullable=False),  # accepted | overridden
    Column("accepted_suggestions", JSON, nullable=True),
    Column("override_code", String(128), nullable=True),
    Column("override_system", String(255), nullable=True),
    Column("override_display", String(255), nullable=True),
    Column("user_comment", Text, nullable=True),
    Column("outcome_time", DateTime(timezone=True), nullable=False),
    Column("received", DateTime(timezone=True), nullable=False),
    Column("client", String(255), nullable=False),
    Index("ix_cds_feedback_service", "service", "outcome_time"),
)

bulk_exports = Table(
    "bulk_exports",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("owner", String(255), nullable=False),
    Column("status", String(16), nullable=False),  # accepted | running | completed | failed | cancelled
    Column("request", Text, nullable=False),
    Column("params", JSON, nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("finished", DateTime(timezone=True), nullable=True),
    Column("progress", String(64), nullable=True),
    Column("manifest", JSON, nullable=True),
    Column("error", Text, nullable=True),
)
