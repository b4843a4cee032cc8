"""Tables of the monitoring service (on the store's ``metadata``; migration ``0002_ews_monitor``).

- ``ews_devices`` / ``ews_bindings``: the device registry (per-device HMAC key; device -> patient for
  a period, with the ward for alert routing).
- ``ews_alerts``: one row per alert (open, acknowledged or superseded), level, recipients.
- ``ews_alert_events``: the escalation history (raised, re-sent, acknowledged, superseded); it is
  also the feed for server-sent events and ``hygeia alerts tail`` (ordered by ``seq``).
- ``ews_patient_levels``: each patient's last NEWS2 response level (so a restart neither re-raises
  nor forgets).
- ``ews_counters``: monitor counters (accepted, rejected by reason, stored), summed across runs.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Integer, LargeBinary, String, Table, Text

from hygeia.records.schema import metadata

ews_devices = Table(
    "ews_devices",
    metadata,
    Column("device_id", String(128), primary_key=True),
    Column("key", LargeBinary, nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
)

ews_bindings = Table(
    "ews_bindings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device_id", String(128), nullable=False),
    Column("patient_id", String(64), nullable=False),
    Column("ward", String(128), nullable=True),
    Column("start", DateTime(timezone=True), nullable=False),
    Column("end", DateTime(timezone=True), nullable=True),
    Index("ix_ews_bindings_device", "device_id"),
)

ews_alerts = Table(
    "ews_alerts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("patient_id", String(64), nullable=False),
    Column("ward", String(128), nullable=True),
    Column("level", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("risk", String(16), nullable=False),
    Column("recipients", JSON, nullable=False),
    Column("summary", Text, nullable=False),
    Column("status", String(16), nullable=False),  # open, acknowledged, superseded
    Column("raised", DateTime(timezone=True), nullable=False),
    Column("last_sent", DateTime(timezone=True), nullable=False),
    Column("sends", Integer, nullable=False),
    Column("acknowledged_by", String(128), nullable=True),
    Column("acknowledged_at", DateTime(timezone=True), nullable=True),
    Column("superseded_by", String(64), nullable=True),
    Index("ix_ews_alerts_status", "status", "level"),
    Index("ix_ews_alerts_patient", "patient_id"),
)

ews_alert_events = Table(
    "ews_alert_events",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("alert_id", String(64), nullable=False),
    Column("patient_id", String(64), nullable=False),
    Column("ward", String(128), nullable=True),
    Column("time", DateTime(timezone=True), nullable=False),
    Column("event", String(16), nullable=False),  # raised, resent, acknowledged, superseded
    Column("detail", JSON, nullable=False),  # the alert as JSON at that moment
    Index("ix_ews_alert_events_alert", "alert_id"),
)

ews_patient_levels = Table(
    "ews_patient_levels",
    metadata,
    Column("patient_id", String(64), primary_key=True),
    Column("level", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("scored_at", DateTime(timezone=True), nullable=False),
)

ews_counters = Table(
    "ews_counters",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("count", BigInteger, nullable=False),
)
