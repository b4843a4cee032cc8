"""The store's tables (SQLAlchemy Core). Changes here need an Alembic migration in ``migrations/``."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# Current version of every resource, as validated FHIR R4 JSON.
resources = Table(
    "resources",
    metadata,
    Column("resource_type", String(64), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("version_id", Integer, nullable=False),
    Column("last_updated", DateTime(timezone=True), nullable=False),
    Column("patient_id", String(64), nullable=True),
    Column("content_hash", String(64), nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("content", Text, nullable=False),
    Index("ix_resources_patient", "patient_id", "resource_type"),
)

# Every version ever written (the current one included): vread and _history read from here.
resource_history = Table(
    "resource_history",
    metadata,
    Column("resource_type", String(64), primary_key=True),
    Column("id", String(64), primary_key=True),
    Column("version_id", Integer, primary_key=True),
    Column("last_updated", DateTime(timezone=True), nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("content", Text, nullable=False),
)

# One row per coded value of an Observation (components included) for fast vitals/labs queries.
observation_index = Table(
    "observation_index",
    metadata,
    Column("resource_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("patient_id", String(64), nullable=True),
    Column("system", String(255), nullable=False),
    Column("code", String(64), nullable=False),
    Column("category", String(64), nullable=True),
    Column("effective", DateTime(timezone=True), nullable=True),
    Column("value_num", Float, nullable=True),
    Column("value_str", String(255), nullable=True),
    Column("unit", String(64), nullable=True),
    Column("status", String(32), nullable=True),
    # Covering index: a patient's vitals and labs are read from the index alone.
    Index("ix_obs_patient_code_time", "patient_id", "code", "effective", "resource_id", "system", "category",
          "value_num", "value_str", "unit"),
    Index("ix_obs_code_time", "code", "effective"),
)

users = Table(
    "users",
    metadata,
    Column("username", String(128), primary_key=True),
    Column("password_hash", String(255), nullable=False),
    Column("roles", JSON, nullable=False),
    Column("patient_id", String(64), nullable=True),  # for the patient role: their own record
    Column("created", DateTime(timezone=True), nullable=False),
    Column("disabled", Boolean, nullable=False, default=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("username", String(128), nullable=False),
    Column("issued", DateTime(timezone=True), nullable=False),
    Column("expires", DateTime(timezone=True), nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
)

# Append-only, hash-chained audit trail (AuditEvent-shaped). Never updated, never deleted.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("username", String(128), nullable=False),
    Column("role", String(64), nullable=True),
    Column("patient_id", String(64), nullable=True),
    Column("resource", String(255), nullable=True),
    Column("action", String(16), nullable=False),  # C R U D E (AuditEvent.action)
    Column("purpose", String(64), nullable=True),
    Column("outcome", String(8), nullable=False),  # 0 success, 4 minor, 8 serious, 12 major failure
    Column("detail", Text, nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_patient", "patient_id", "time"),
)
