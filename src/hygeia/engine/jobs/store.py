"""Partitions over the patients of the store, fingerprinted by what each partition's patients hold.

Workers reach the store by its URL (PostgreSQL for a cluster: every worker connects with the same
``HYGEIA_DATABASE_URL``); each worker process opens one connection pool per URL and keeps it.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select

from hygeia.engine.core import Partition, chunks, fingerprint
from hygeia.records.schema import resources
from hygeia.records.store import Store


@lru_cache(maxsize=4)
def open_store(url: str) -> Store:
    """One Store (connection pool) per URL per worker process."""
    return Store(url)


def store_state(store: Store, patient_ids: Sequence[str]) -> list[tuple[str, int, int, str]]:
    """Per patient: number of current resources, sum of their versions, latest update (changes when data do)."""
    q = (
        select(
            resources.c.patient_id, func.count(), func.sum(resources.c.version_id), func.max(resources.c.last_updated)
        )
        .where(resources.c.patient_id.in_(list(patient_ids)), resources.c.deleted.is_(False))
        .group_by(resources.c.patient_id)
        .order_by(resources.c.patient_id)
    )
    with store.engine.connect() as conn:
        return [(str(p), int(n), int(v or 0), str(t)) for p, n, v, t in conn.execute(q)]


def patient_partitions(
    store: Store, size: int, params: Any, patient_ids: Sequence[str] | None = None, extra: Any = None
) -> tuple[Partition, ...]:
    """Partitions of ``size`` patients (sorted ids); payload ``(store URL, ids, extra)``."""
    ids = sorted(patient_ids) if patient_ids is not None else store.patient_ids()
    return tuple(
        Partition(
            f"{k:05d}", (store.url, group, extra), len(group), fingerprint(params, group, store_state(store, group))
        )
        for k, group in enumerate(chunks(ids, size))
    )


__all__ = ["open_store", "patient_partitions", "store_state"]
