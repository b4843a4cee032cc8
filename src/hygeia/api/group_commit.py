"""Group commit for the CDS Hooks calls: the audit entries and spent ``jti`` of concurrent calls, one
transaction and one fsync for all of them, before any of their responses is sent.

A call hands its entry to :meth:`GroupCommit.commit` and waits. The first waiting call of an event loop
starts a flush: it takes every entry queued so far, writes them in a worker thread in one
``audit.chain_transaction(durable=True)`` (the chain's cross-process lock: SQLite ``BEGIN IMMEDIATE``,
PostgreSQL an advisory lock; the entries are chained to the head and to each other), and releases the
waiting calls once that transaction has committed; entries that arrived meanwhile form the next batch.
So nothing waits for a timer: under light load a batch is one call, under heavy load it is every call that
arrived during the previous commit. The hash chain stays one chain across ``hygeia serve`` workers.

A ``jti`` recorded before (by another worker, or earlier in the batch) is refused: its call gets
:class:`AccessError` (→ 401) and its entry is written as a denied access (outcome 4), as a single call's
commit does.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import IntegrityError

from hygeia.governance import audit
from hygeia.governance.access import AccessError
from hygeia.governance.smart import VerifiedJwt, remember_jtis
from hygeia.records.store import Store

REPLAYED = "jti already used (replayed JWT)"


@dataclass
class _Call:
    caller: VerifiedJwt
    entry: dict[str, Any] | None
    done: asyncio.Future[bool]


@dataclass
class _Queue:
    """The calls waiting on one event loop (one per worker process; tests may run several loops)."""

    pending: list[_Call] = field(default_factory=list)
    flusher: asyncio.Task[None] | None = None


class GroupCommit:
    """Per-process group commit of CDS calls' jti + audit entry (see the module docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._queues: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Queue] = weakref.WeakKeyDictionary()
        self.batches = 0
        self.calls = 0

    async def commit(self, caller: VerifiedJwt, entry: dict[str, Any] | None = None) -> None:
        """Spend ``caller``'s jti and append ``entry`` (``audit.record``'s keyword arguments; None: no entry)
        durably; returns once committed. AccessError when the jti was used before (its entry then records
        the refusal)."""
        loop = asyncio.get_running_loop()
        queue = self._queues.get(loop)
        if queue is None:
            queue = self._queues[loop] = _Queue()
        call = _Call(caller, entry, loop.create_future())
        queue.pending.append(call)
        if queue.flusher is None:
            queue.flusher = loop.create_task(self._flush(queue))
        if not await call.done:
            raise AccessError(REPLAYED)

    async def _flush(self, queue: _Queue) -> None:
        try:
            while queue.pending:
                batch, queue.pending = queue.pending, []
                try:
                    fresh = await asyncio.to_thread(self._write, batch)
                except Exception as exc:  # nothing of the batch committed: every call fails (→ 500)
                    for call in batch:
                        if not call.done.done():
                            call.done.set_exception(exc)
                    continue
                for call, ok in zip(batch, fresh, strict=True):
                    if not call.done.done():  # a call whose client went away is recorded all the same
                        call.done.set_result(ok)
        finally:
            queue.flusher = None

    def _write(self, batch: list[_Call]) -> list[bool]:
        """One transaction for the batch; per call, whether its jti was fresh."""
        for attempt in (1, 2):
            try:
                with audit.chain_transaction(self.store, durable=True) as conn:
                    fresh = remember_jtis(conn, [c.caller for c in batch])
                    entries = [c.entry if ok else {**c.entry, "outcome": "4", "detail": f"401: {REPLAYED}"}
                               for c, ok in zip(batch, fresh, strict=True) if c.entry is not None]
                    audit.append_many(conn, entries)
            except IntegrityError:  # a jti inserted by a writer outside the chain lock: the retry refuses it
                if attempt == 2:
                    raise
                continue
            self.batches += 1
            self.calls += len(batch)
            return fresh
        raise AssertionError("unreachable")
