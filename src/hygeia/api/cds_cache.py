"""A per-process cache of CDS Hooks cards computed from Hygeia's own store, invalidated by any store write.

Cards are a function of the patient's resources (and, for the order hooks, of the draft orders and the
PGx knowledge base): NEWS2 is scored at the newest reading's time, not the clock. The cache key holds the
patient's *store fingerprint* — number of current rows, newest ``last_updated`` and the sum of their
``version_id`` over every resource of the patient (deleted ones included) — read before the cards are
computed. Any write to the patient's data through the store (a new Observation, a changed or deleted
resource, a new RiskAssessment or PGx result, from any process) changes it, so the next call recomputes.
Each hit is handed out with fresh card and suggestion uuids, as a computed answer would be.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from hygeia.records.store import Store, placeholder

Fingerprint = tuple[int, str, int]

# Plain SQL on the driver connection: per call, SQLAlchemy's statement and result machinery would cost
# several times the query itself (an index range scan of the patient's rows).
_FINGERPRINT = ("SELECT count(*), max(last_updated), sum(version_id) FROM resources WHERE patient_id = {mark}")


def patient_fingerprint(store: Store, patient_id: str) -> Fingerprint | None:
    """(rows, newest last_updated, sum of versions) of the patient's resources; None when there are none."""
    mark = placeholder(store.engine.dialect)
    connection = store.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute(_FINGERPRINT.format(mark=mark), (patient_id,))
        row = cursor.fetchone()
        cursor.close()
    finally:
        connection.close()
    if row is None or not row[0]:
        return None
    return int(row[0]), str(row[1]), int(row[2])


def fresh_ids(cards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Shallow copies of ``cards`` with new card and suggestion uuids (the rest is shared, never mutated)."""
    out = []
    for card in cards:
        copy = {**card, "uuid": str(uuid.uuid4())}
        if "suggestions" in card:
            copy["suggestions"] = [{**s, "uuid": str(uuid.uuid4())} for s in card["suggestions"]]
        out.append(copy)
    return out


class CardCache:
    """LRU of cards by key (hook, patient, fingerprint, ...); thread-safe. ``hits``/``misses`` for the benchmark."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, list[dict[str, Any]]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> list[dict[str, Any]] | None:
        """The cards stored under ``key``, with fresh uuids; None on a miss."""
        with self._lock:
            cards = self._items.get(key)
            if cards is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
        return fresh_ids(cards)

    def put(self, key: Hashable, cards: list[dict[str, Any]]) -> None:
        with self._lock:
            self._items[key] = cards
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
