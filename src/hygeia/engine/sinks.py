"""Idempotent outputs: a folder of per-partition Parquet or NDJSON files, or the Hygeia store.

Folder layout (``FileSink``)::

    OUT/part-<key>.parquet          rows of one partition (or .ndjson)
    OUT/_done/<key>.json            {"fingerprint", "rows", "file"} — written after the data file

Each data file is written under a temporary name and renamed into place (``os.replace``, atomic on
one filesystem); the marker is written the same way, after it. A partition counts as done only when
its marker names the same input fingerprint and its data file is there, so a run that dies half-way
leaves whole files or nothing, and a re-run redoes exactly the partitions without a valid marker. At
the end of a successful run, part files of partitions the job no longer has (a re-run with another
partition size) are removed, so the folder never holds a row twice. Readers (``read_rows``,
``pyarrow.dataset``) ignore ``_done`` and temporary ``.``-files.

``StoreSink`` upserts FHIR resources with ``Store.write``: unchanged content keeps its version, so
a re-run creates nothing new (it recomputes every partition, since the store is the record).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from hygeia.engine.core import Job, Partition, Row

if TYPE_CHECKING:
    from hygeia.records.store import Store

FORMATS = ("parquet", "ndjson")


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _parquet_bytes(rows: list[Row], schema: Any) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pylist(rows, schema=schema)
    buf = pa.BufferOutputStream()
    pq.write_table(table, buf, compression="zstd")
    return bytes(buf.getvalue().to_pybytes())


class FileSink:
    """Per-partition files in ``folder`` (``fmt``: parquet or ndjson); see the module notes."""

    def __init__(self, folder: Path | str, fmt: str = "parquet") -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown output format {fmt!r}: use parquet or ndjson")
        self.folder = Path(folder)
        self.fmt = fmt
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "_done").mkdir(exist_ok=True)

    def path(self, key: str) -> Path:
        return self.folder / f"part-{key}.{self.fmt}"

    def _marker(self, key: str) -> Path:
        return self.folder / "_done" / f"{key}.json"

    def done(self, partition: Partition) -> bool:
        marker = self._marker(partition.key)
        try:
            meta = orjson.loads(marker.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return False
        return bool(meta.get("fingerprint") == partition.fingerprint and self.path(partition.key).exists())

    def write(self, partition: Partition, rows: list[Row], schema: Any = None) -> None:
        self._marker(partition.key).unlink(missing_ok=True)
        if self.fmt == "parquet":
            data = _parquet_bytes(rows, schema)
        else:
            data = b"".join(orjson.dumps(r, default=str) + b"\n" for r in rows)
        _atomic_write(self.path(partition.key), data)
        _atomic_write(
            self._marker(partition.key),
            orjson.dumps(
                {"fingerprint": partition.fingerprint, "rows": len(rows), "file": self.path(partition.key).name}
            ),
        )

    def finish(self, job: Job) -> None:
        keep = {p.key for p in job.partitions}
        for path in self.folder.glob(f"part-*.{self.fmt}"):
            key = path.name.removeprefix("part-").removesuffix(f".{self.fmt}")
            if key not in keep:
                path.unlink()
                self._marker(key).unlink(missing_ok=True)


def read_rows(folder: Path | str) -> list[Row]:
    """Every row of a FileSink folder, partitions in key order (Parquet or NDJSON, whichever is there)."""
    root = Path(folder)
    out: list[Row] = []
    for path in sorted(root.glob("part-*.parquet")) + sorted(root.glob("part-*.ndjson")):
        if path.suffix == ".parquet":
            import pyarrow.parquet as pq

            out += pq.read_table(path).to_pylist()
        else:
            out += [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]
    return out


class MemorySink:
    """Keeps every partition's rows in memory; :meth:`rows` gives them in partition-key order. For commands
    that write one output of their own (``hygeia pgx match --engine dask`` …). Nothing is skipped on a re-run."""

    def __init__(self) -> None:
        self.parts: dict[str, list[Row]] = {}

    def done(self, partition: Partition) -> bool:
        return False

    def write(self, partition: Partition, rows: list[Row], schema: Any = None) -> None:
        self.parts[partition.key] = rows

    def finish(self, job: Job) -> None:
        return None

    def rows(self) -> list[Row]:
        return [row for key in sorted(self.parts) for row in self.parts[key]]


class StoreSink:
    """Writes each row's ``resource`` (a FHIR resource or its JSON; rows without one are skipped) to the
    store, one transaction per partition."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.created = 0
        self.updated = 0

    def done(self, partition: Partition) -> bool:
        return False

    def write(self, partition: Partition, rows: list[Row], schema: Any = None) -> None:
        resources = [
            r["resource"] if isinstance(r["resource"], dict) else orjson.loads(r["resource"])
            for r in rows
            if r.get("resource")
        ]
        if resources:
            summary = self.store.write(resources)
            self.created += summary.created
            self.updated += summary.updated

    def finish(self, job: Job) -> None:
        return None


__all__ = ["FORMATS", "FileSink", "MemorySink", "StoreSink", "read_rows"]
