"""Pharmacogenomic calling of a multi-sample VCF, partitioned by sample (match → phenotype → recommend).

Planning reads the VCF once and cuts it into per-partition VCF texts: the header, and of the data
lines only those at PharmCAT definition positions (and gVCF reference blocks, which may cover them),
each with its sample columns of that partition. A worker matches its slice with
``hygeia.pgx.iter_match_vcf`` exactly as a single-file run does. Output: one row per sample and gene.
Decision support for a clinician (CPIC/DPWG guidance via hygeia.pgx).
"""

from __future__ import annotations

import gzip
import io
import os
import tempfile
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

from hygeia.engine.core import Job, Partition, Row, chunks, fingerprint
from hygeia.pgx import KnowledgeBase, MatchOptions, iter_match_vcf, load_kb, phenotype_sample, recommend
from hygeia.pgx.pipeline import OutsideCall

JOB_VERSION = "pgx-match/1"
_BLOCK_ALTS = {"<NON_REF>", "<*>", "."}


class SplitError(ValueError):
    """A VCF that cannot be split by sample; the message names the file and line."""


def _schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("sample", pa.string()),
            ("gene", pa.string()),
            ("called", pa.bool_()),
            ("source", pa.string()),
            ("reported", pa.string()),
            ("phenotype", pa.string()),
            ("activity_score", pa.string()),
            ("lookup_key", pa.string()),
            ("functions", pa.string()),
            ("missing_positions", pa.int64()),
            ("warnings", pa.string()),
            ("recommendations", pa.string()),
        ]
    )


@lru_cache(maxsize=2)
def _load(root: str) -> KnowledgeBase:
    return load_kb(Path(root))


def resolve_kb(kb: KnowledgeBase | str) -> KnowledgeBase:
    """A KB object as it is; a path is loaded once per worker process."""
    return kb if isinstance(kb, KnowledgeBase) else _load(kb)


def _chrom(chrom: str) -> str:
    c = chrom[3:] if chrom.lower().startswith("chr") else chrom
    return "chrM" if c in ("M", "MT") else "chr" + c


def _lines(path: Path) -> Iterator[str]:
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    with (gzip.open(path, "rb") if gz else open(path, "rb")) as raw:
        yield from io.TextIOWrapper(raw, encoding="utf-8", errors="replace")


def split_vcf(path: Path | str, wanted: set[tuple[str, int]], size: int) -> tuple[list[str], list[bytes]]:
    """Sample names and one VCF text per chunk of ``size`` samples (PGx lines only)."""
    path = Path(path)
    if not path.is_file():
        raise SplitError(f"{path}: file not found")
    header: list[str] = []
    samples: list[str] | None = None
    groups: list[list[int]] = []
    bodies: list[list[str]] = []
    ncols = 0
    for n, raw in enumerate(_lines(path), start=1):
        line = raw.rstrip("\r\n")
        if samples is None:
            if line.startswith("##") or not line:
                header.append(line)
                continue
            if not line.startswith("#CHROM"):
                raise SplitError(f"{path}:{n}: data before the #CHROM header line")
            cols = line.split("\t")
            if len(cols) < 10 or cols[8] != "FORMAT":
                raise SplitError(f"{path}:{n}: the #CHROM line has no FORMAT and sample columns")
            samples = cols[9:]
            ncols = len(cols)
            groups = [
                list(range(9 + i, 9 + i + len(c)))
                for i, c in zip(range(0, len(samples), size), chunks(samples, size), strict=True)
            ]
            bodies = [[*header, "\t".join(cols[:9] + [cols[i] for i in g])] for g in groups]
            continue
        if not line:
            continue
        head = line.split("\t", 5)
        if len(head) < 6:
            raise SplitError(f"{path}:{n}: {len(head)} columns, the header has {ncols}")
        try:
            key = (_chrom(head[0]), int(head[1]))
        except ValueError:
            raise SplitError(f"{path}:{n}: POS {head[1]!r} is not a number") from None
        if key not in wanted and head[4] not in _BLOCK_ALTS:
            continue
        cols = line.split("\t")
        if len(cols) != ncols:
            raise SplitError(f"{path}:{n}: {len(cols)} columns, the header has {ncols}")
        fixed = cols[:9]
        for body, g in zip(bodies, groups, strict=True):
            body.append("\t".join(fixed + [cols[i] for i in g]))
    if samples is None:
        raise SplitError(f"{path}: no #CHROM header line")
    return samples, ["\n".join(b).encode() + b"\n" for b in bodies]


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def match_partition(payload: tuple[KnowledgeBase | str, bytes, MatchOptions | None]) -> list[Row]:
    """Match, phenotype and recommend every sample of one VCF slice (pure apart from a private temp file)."""
    kb_ref, text, opts = payload
    kb = resolve_kb(kb_ref)
    fd, tmp = tempfile.mkstemp(suffix=".vcf")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text)
        rows: list[Row] = []
        for result in iter_match_vcf(kb, tmp, opts):
            phenotypes = phenotype_sample(kb, result)
            recs = recommend(kb, phenotypes)
            for gene, call in sorted(result.genes.items()):
                p = phenotypes.get(gene)
                rows.append(
                    {
                        "sample": result.sample,
                        "gene": gene,
                        "called": call.called,
                        "source": call.source,
                        "reported": _json(call.reported),
                        "phenotype": p.phenotype if p else None,
                        "activity_score": p.activity_score if p else None,
                        "lookup_key": p.lookup_key if p else None,
                        "functions": _json(p.functions if p else []),
                        "missing_positions": len(call.missing_positions),
                        "warnings": _json([*result.warnings, *call.warnings]),
                        "recommendations": _json(
                            [
                                {
                                    "drug": r.drug,
                                    "source": r.source,
                                    "classification": r.classification,
                                    "population": r.population,
                                }
                                for r in recs
                                if gene in r.genes
                            ]
                        ),
                    }
                )
        return rows
    finally:
        Path(tmp).unlink(missing_ok=True)


def match_stage_partition(
    payload: tuple[KnowledgeBase | str, bytes, MatchOptions | None, list[OutsideCall] | None],
) -> list[Row]:
    """The matcher stage only (``hygeia pgx match``): ``{"sample", "result": SampleResult.to_json()}`` a sample."""
    kb_ref, text, opts, outside = payload
    kb = resolve_kb(kb_ref)
    fd, tmp = tempfile.mkstemp(suffix=".vcf")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text)
        return [{"sample": r.sample, "result": r.to_json()} for r in iter_match_vcf(kb, tmp, opts, outside)]
    finally:
        Path(tmp).unlink(missing_ok=True)


def plan_pgx_stage(
    vcf: Path | str,
    kb: KnowledgeBase,
    *,
    kb_ref: KnowledgeBase | str | None = None,
    partition_size: int = 500,
    opts: MatchOptions | None = None,
    outside: list[OutsideCall] | None = None,
) -> Job:
    """The match stage of ``vcf`` by partitions of samples (rows hold nested results: for a MemorySink)."""
    samples, texts = split_vcf(vcf, set(kb.positions()), partition_size)
    ref = kb if kb_ref is None else kb_ref
    kb_id = sorted(kb.versions.items())
    parts = tuple(
        Partition(
            f"{k:05d}",
            (ref, text, opts, outside),
            len(group),
            fingerprint("pgx-match-stage/1", kb_id, repr(opts), repr(outside), text),
        )
        for k, (group, text) in enumerate(zip(chunks(samples, partition_size), texts, strict=True))
    )
    return Job("pgx-match-stage", match_stage_partition, parts)


def plan_pgx_match(
    vcf: Path | str,
    kb: KnowledgeBase,
    *,
    kb_ref: KnowledgeBase | str | None = None,
    partition_size: int = 500,
    opts: MatchOptions | None = None,
) -> Job:
    """The job for ``vcf``: partitions of ``partition_size`` samples. ``kb_ref``: what workers get (a KB
    folder path, loaded once per worker; default the KB object itself, pickled into every task)."""
    samples, texts = split_vcf(vcf, set(kb.positions()), partition_size)
    ref = kb if kb_ref is None else kb_ref
    kb_id = sorted(kb.versions.items())
    parts = tuple(
        Partition(f"{k:05d}", (ref, text, opts), len(group), fingerprint(JOB_VERSION, kb_id, repr(opts), text))
        for k, (group, text) in enumerate(zip(chunks(samples, partition_size), texts, strict=True))
    )
    return Job("pgx-match", match_partition, parts, _schema())


__all__ = [
    "JOB_VERSION",
    "SplitError",
    "match_partition",
    "match_stage_partition",
    "plan_pgx_match",
    "plan_pgx_stage",
    "resolve_kb",
    "split_vcf",
]
