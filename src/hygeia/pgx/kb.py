"""Knowledge base: PharmCAT allele definitions, phenotype tables, CPIC/DPWG guidelines, versions.

The KB is read from a directory laid out like ``$HYGEIA_REFERENCE_DIR/pgx/kb`` (PharmCAT's
resources, CPIC data, the G6PD/RYR1 supplement tables and ``SOURCE_COMMITS.txt``), or from a
copy imported with ``hygeia pgx kb import``. Nothing here is copied into the repository.
Sources: PharmCAT (https://pharmcat.clinpgx.org, MPL-2.0), CPIC (https://cpicpgx.org, CC0).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

_RESOURCES = Path("src/main/resources/org/pharmgkb/pharmcat")
IUPAC: dict[str, frozenset[str]] = {
    "R": frozenset("AG"), "Y": frozenset("CT"), "S": frozenset("GC"), "W": frozenset("AT"),
    "K": frozenset("GT"), "M": frozenset("AC"), "B": frozenset("CGT"), "D": frozenset("AGT"),
    "H": frozenset("ACT"), "V": frozenset("ACG"), "N": frozenset("ACGT"),
}


class KbError(ValueError):
    """The knowledge base directory is missing something or holds a malformed file."""


@dataclass(frozen=True)
class Locus:
    """One position of an allele definition (GRCh38, VCF coordinates)."""

    chrom: str
    position: int
    rsid: str | None
    ref: str
    alts: tuple[str, ...]


@dataclass(frozen=True)
class NamedAllele:
    """A named allele: one VCF-style allele (or None = not defined) per locus of its gene."""

    name: str
    alleles: tuple[str | None, ...]
    reference: bool


@dataclass(frozen=True, eq=False)
class GeneDefinition:
    """One gene's allele definitions. Compared and hashed by identity, so per-definition caches are cheap."""

    gene: str
    chromosome: str
    version: str
    loci: tuple[Locus, ...]
    alleles: tuple[NamedAllele, ...]
    ignored_positions: frozenset[int] = frozenset()
    suballeles: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    @property
    def reference_allele(self) -> NamedAllele:
        return next(a for a in self.alleles if a.reference)


@dataclass
class KnowledgeBase:
    """Everything the pipeline needs, loaded once."""

    root: Path
    versions: dict[str, str]
    definitions: dict[str, GeneDefinition]
    phenotypes: dict[str, dict[str, Any]] = field(default_factory=dict)
    guidelines: list[dict[str, Any]] = field(default_factory=list)
    function_tables: dict[str, dict[str, str]] = field(default_factory=dict)
    # Derived indexes (positions, compiled guidelines, memoised lookups), built on first use.
    # The KB is treated as read-only once loaded; build a new one rather than mutating it.
    cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def positions(self) -> dict[tuple[str, int], list[tuple[str, int]]]:
        """(chrom, position) → [(gene, locus index)] for every definition position."""
        cached = self.cache.get("positions")
        if cached is None:
            cached = {}
            for gene, d in self.definitions.items():
                for i, locus in enumerate(d.loci):
                    cached.setdefault((locus.chrom, locus.position), []).append((gene, i))
            self.cache["positions"] = cached
        return cached

    def reference_bases(self) -> dict[tuple[str, int], str]:
        """(chrom, position) → the definition's reference base(s), for REF checks while reading a VCF."""
        cached = self.cache.get("ref_of")
        if cached is None:
            cached = {}
            for key, users in self.positions().items():
                gene, i = users[0]
                cached[key] = self.definitions[gene].loci[i].ref
            self.cache["ref_of"] = cached
        return cached


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise KbError(f"{path}: cannot read JSON ({exc})") from exc


def parse_definition(data: dict[str, Any], exemption: dict[str, Any] | None = None, where: str = "") -> GeneDefinition:
    """Turn one PharmCAT ``*_translation.json`` document into a :class:`GeneDefinition`."""
    try:
        gene = str(data["gene"])
        chrom = str(data["chromosome"])
        loci = tuple(
            Locus(chrom, int(v["position"]), v.get("rsid"), str(v["ref"]), tuple(v.get("alts") or ()))
            for v in data["variants"]
        )
        ignored = {str(a).lower() for a in (exemption or {}).get("ignoredAlleles", [])}
        alleles = tuple(
            NamedAllele(str(a["name"]), tuple(a["alleles"]), bool(a.get("reference", False)))
            for a in data["namedAlleles"]
            if str(a["name"]).lower() not in ignored
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise KbError(f"{where}: malformed allele definition ({exc!r})") from exc
    if any(len(a.alleles) != len(loci) for a in alleles):
        raise KbError(f"{where}: a named allele of {gene} does not have one allele per position")
    if sum(a.reference for a in alleles) != 1:
        raise KbError(f"{where}: {gene} must have exactly one reference allele")
    ignored_pos = frozenset(int(p["position"]) for p in (exemption or {}).get("ignoredPositions", []))
    subs = {str(k): str(v) for k, v in (data.get("suballelesMap") or {}).items()}
    return GeneDefinition(gene, chrom, str(data.get("version", "")), loci, alleles, ignored_pos, subs)


def _find(root: Path, pattern: str) -> list[Path]:
    return sorted(p for p in root.glob(pattern) if p.is_file())


def _latest_pharmcat(root: Path, sub: str) -> Path | None:
    """PharmCAT resource folder: HEAD first, then the newest versioned copy holding it."""
    candidates = sorted(root.glob("pharmcat-*"), key=lambda p: (p.name != "pharmcat-HEAD", p.name), reverse=False)
    for c in candidates:
        if (c / _RESOURCES / sub).is_dir():
            return c / _RESOURCES / sub
    if (root / _RESOURCES / sub).is_dir():
        return root / _RESOURCES / sub
    return None


def read_versions(root: Path) -> dict[str, str]:
    """Versions from SOURCE_COMMITS.txt (one commit per line, or ``name<TAB|space>commit``)."""
    versions: dict[str, str] = {}
    path = root / "SOURCE_COMMITS.txt"
    if path.exists():
        names = sorted(p.name for p in root.iterdir() if p.is_dir())
        for i, line in enumerate(x.strip() for x in path.read_text().splitlines()):
            if not line:
                continue
            parts = line.split()
            if len(parts) >= 2:
                versions[parts[0]] = parts[-1]
            else:
                versions[names[i] if i < len(names) else f"source{i + 1}"] = parts[0]
    return versions


def load_kb(root: Path) -> KnowledgeBase:
    """Load a KB directory. Raises :class:`KbError` naming what is missing."""
    root = Path(root)
    if not root.is_dir():
        raise KbError(
            f"PGx knowledge base not found at {root} (set HYGEIA_REFERENCE_DIR or run `hygeia pgx kb import`)"
        )
    alleles_dir = _latest_pharmcat(root, "definition/alleles")
    if alleles_dir is None:
        raise KbError(f"{root}: no PharmCAT allele definitions (definition/alleles/*_translation.json)")
    exemptions_path = alleles_dir / "exemptions.json"
    exemptions: dict[str, Any] = _read_json(exemptions_path) if exemptions_path.exists() else {}
    definitions: dict[str, GeneDefinition] = {}
    for path in _find(alleles_dir, "*_translation.json"):
        data = _read_json(path)
        gene = str(data.get("gene", path.name.split("_")[0]))
        definitions[gene] = parse_definition(data, exemptions.get(gene), str(path))
    if not definitions:
        raise KbError(f"{alleles_dir}: no *_translation.json files")
    phenotypes: dict[str, dict[str, Any]] = {}
    for sub in ("phenotype", "phenotype/cpic", "phenotype/dpwg"):
        pdir = _latest_pharmcat(root, sub)
        if pdir is None:
            continue
        source = sub.split("/")[-1].upper() if "/" in sub else "CPIC"
        for path in _find(pdir, "*.json"):
            data = _read_json(path)
            key = f"{source}:{data.get('gene', path.stem)}"
            phenotypes.setdefault(key, data)
    guidelines: list[dict[str, Any]] = []
    gdir = _latest_pharmcat(root, "reporter/guidelines")
    if gdir is not None:
        guidelines = [_read_json(p) for p in _find(gdir, "*.json")]
    tables: dict[str, dict[str, str]] = {}
    for path in _find(root, "supplement/*.haplotype_function.tsv"):
        tables[path.name.split(".")[0]] = _read_function_table(path)
    return KnowledgeBase(root, read_versions(root), definitions, phenotypes, guidelines, tables)


def _read_function_table(path: Path) -> dict[str, str]:
    """Allele → function from a supplement TSV (header names an allele and a function column)."""
    lines = [x for x in path.read_text(encoding="utf-8").splitlines() if x.strip() and not x.startswith("#")]
    if not lines:
        return {}
    header = [h.strip().lower() for h in lines[0].split("\t")]
    a_col = next((i for i, h in enumerate(header) if "allele" in h or "haplotype" in h), 0)
    f_col = next((i for i, h in enumerate(header) if "function" in h), min(1, len(header) - 1))
    out: dict[str, str] = {}
    for n, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) <= max(a_col, f_col):
            raise KbError(f"{path}:{n}: expected at least {max(a_col, f_col) + 1} columns")
        out[cells[a_col].strip()] = cells[f_col].strip()
    return out


@lru_cache(maxsize=4)
def cached_kb(root: str) -> KnowledgeBase:
    return load_kb(Path(root))


def default_kb_dir() -> Path:
    """The reference KB ($HYGEIA_REFERENCE_DIR/pgx/kb), else the newest imported copy in the data dir."""
    from hygeia.config import get_settings

    settings = get_settings()
    ref = settings.reference("pgx", "kb")
    if ref.is_dir():
        return ref
    imported = settings.data_dir / "pgx-kb"
    if imported.is_dir():
        versions = sorted(p for p in imported.iterdir() if p.is_dir())
        if versions:
            return versions[-1]
    return ref
