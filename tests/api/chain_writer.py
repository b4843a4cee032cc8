"""A process that appends audit entries: a spawn target that imports only the audit trail and the store."""

from __future__ import annotations

from hygeia.governance import audit
from hygeia.records.store import Store


def append_many(url: str, worker: int, n: int) -> None:
    store = Store(url)
    for i in range(n):
        audit.record(store, username=f"worker{worker}", role="clinician", action="R", patient_id=f"p{i}")
    store.dispose()
