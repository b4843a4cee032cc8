"""A small, fast VCF reader for the PGx positions (own parser; plain or bgzip via ``gzip``).

Only records at definition positions are kept. Handles multi-sample files, phased (``|``) and
unphased (``/``) genotypes, haploid calls (chrX in males), ``chr``-prefixed or bare contig
names, gVCF reference blocks (``<NON_REF>``/``<*>`` with ``END=``) that cover PGx positions, and
refuses GRCh37 input. Malformed input raises :class:`VcfError` naming the line.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

# GRCh37 chr1 length; GRCh38 chr1 is 248956422 (used to recognise the build from ##contig lines).
_GRCH37_CHR1 = 249250621
_SYMBOLIC_REF_BLOCK = {"<NON_REF>", "<*>", "."}


class VcfError(ValueError):
    """Malformed or unsupported VCF; the message names the file and line."""


@dataclass(frozen=True)
class Call:
    """A sample's genotype at one position: allele strings (None = missing), phase and phase set."""

    alleles: tuple[str | None, ...]
    phased: bool
    phase_set: str | None = None


class SampleCalls(Mapping[tuple[str, int], Call]):
    """One sample's calls, (chrom, position) → :class:`Call`, as a read-only view of the file's columns."""

    __slots__ = ("_columns", "_i")

    def __init__(self, columns: dict[tuple[str, int], list[Call | None]], i: int) -> None:
        self._columns = columns
        self._i = i

    def __getitem__(self, key: tuple[str, int]) -> Call:
        value = self._columns[key][self._i]
        if value is None:
            raise KeyError(key)
        return value

    def get(self, key: tuple[str, int], default: Any = None) -> Any:
        column = self._columns.get(key)
        value = None if column is None else column[self._i]
        return default if value is None else value

    def gather(self, keys: Iterable[tuple[str, int]]) -> list[Call | None]:
        """The calls at ``keys`` (None where missing), in one pass."""
        columns, i = self._columns, self._i
        return [None if (c := columns.get(k)) is None else c[i] for k in keys]

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return (k for k, c in self._columns.items() if c[self._i] is not None)

    def __len__(self) -> int:
        return sum(c[self._i] is not None for c in self._columns.values())


@dataclass
class VcfData:
    """What was read: sample names, and per PGx position one call per sample (None = missing)."""

    samples: list[str]
    columns: dict[tuple[str, int], list[Call | None]] = field(default_factory=dict)
    refs: dict[tuple[str, int], str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def calls(self) -> list[SampleCalls]:
        """One mapping (chrom, position) → Call per sample."""
        return [SampleCalls(self.columns, i) for i in range(len(self.samples))]

    def column(self, key: tuple[str, int]) -> list[Call | None]:
        found = self.columns.get(key)
        if found is None:
            found = self.columns[key] = [None] * len(self.samples)
        return found


def normalize_chrom(chrom: str) -> str:
    c = chrom[3:] if chrom.lower().startswith("chr") else chrom
    if c in ("M", "MT"):
        return "chrM"
    return "chr" + c


def _open_text(path: Path) -> io.TextIOBase:
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


def read_vcf(
    path: Path | str, wanted: Iterable[tuple[str, int]], ref_of: dict[tuple[str, int], str] | None = None
) -> VcfData:
    """Read the genotypes at ``wanted`` (normalised chrom, pos) from a VCF file."""
    path = Path(path)
    if not path.exists():
        raise VcfError(f"{path}: file not found")
    with _open_text(path) as fh:
        try:
            return parse_vcf(fh, wanted, ref_of, str(path))
        except (EOFError, OSError, gzip.BadGzipFile) as exc:
            raise VcfError(f"{path}: cannot read compressed data ({exc})") from exc


def _parse_gt(gt: str, alleles: list[str], where: str) -> Call | None:
    phased = "|" in gt
    parts = gt.replace("|", "/").split("/")
    out: list[str | None] = []
    for p in parts:
        if p == ".":
            out.append(None)
            continue
        if not p.isdigit():
            raise VcfError(f"{where}: genotype {gt!r} is not a valid GT")
        idx = int(p)
        if idx >= len(alleles):
            raise VcfError(f"{where}: genotype {gt!r} refers to allele {idx} but the record has {len(alleles)}")
        out.append(alleles[idx])
    if all(a is None for a in out):
        return None
    return Call(tuple(out), phased and len(out) > 1)


def _read_samples(data: VcfData, key: tuple[str, int], sample_cols: list[str], alleles: list[str],
                  gt_i: int, ps_i: int, where: str, parsed: dict[str, Call | None]) -> None:
    """Store every sample's call at ``key``. ``parsed`` memoises GT(+PS) strings for records with these
    alleles, so identical genotypes share one :class:`Call` (and are parsed once)."""
    simple = gt_i == 0 and ps_i < 0  # the common FORMAT: GT first, no phase set
    column = data.column(key)
    for s, col in enumerate(sample_cols[1:]):
        ps = ""
        if simple:
            gt = col.partition(":")[0]
        else:
            fields = col.split(":")
            gt = fields[gt_i] if gt_i < len(fields) else "."
            if 0 <= ps_i < len(fields) and fields[ps_i] not in (".", ""):
                ps = fields[ps_i]
        memo = f"{gt}\t{ps}" if ps else gt
        if memo in parsed:
            call = parsed[memo]
        else:
            call = _parse_gt(gt, alleles, f"{where} sample {data.samples[s]}")
            if call is not None and ps:
                call = Call(call.alleles, call.phased, ps)
            parsed[memo] = call
        if call is not None:
            column[s] = call


def parse_vcf(
    lines: Iterable[str],
    wanted: Iterable[tuple[str, int]],
    ref_of: dict[tuple[str, int], str] | None = None,
    name: str = "<vcf>",
) -> VcfData:
    """Parse VCF text (any iterable of lines). See :func:`read_vcf`."""
    parser = _Parser(set(wanted), ref_of or {}, name)
    it: Iterator[str] = iter(lines)
    lineno = 0
    for lineno, raw in enumerate(it, start=1):
        parser.line(lineno, raw.rstrip("\r\n"))
        if parser.samples is not None:
            break
    if parser.samples is None:
        raise VcfError(f"{name}:{lineno}: no #CHROM header line (bad header)")
    # Data lines in blocks: a block where every line has the header's column count takes the fast path
    # (only lines at PGx positions or gVCF blocks are looked at further); any other block goes line by line.
    while True:
        block = [raw.rstrip("\r\n") for raw in islice(it, _BLOCK)]
        if not block:
            break
        if not parser.fast_block(lineno + 1, block):
            for k, line in enumerate(block, start=lineno + 1):
                parser.line(k, line)
        lineno += len(block)
    return parser.data


_BLOCK = 4096


class _Parser:
    """State of one VCF parse; ``line`` handles any line, ``fast_block`` a block of well-formed data lines."""

    def __init__(self, want: set[tuple[str, int]], ref_of: dict[tuple[str, int], str], name: str) -> None:
        self.want = want
        self.ref_of = ref_of
        self.name = name
        self.by_chrom: dict[str, list[int]] = {}
        for c, p in want:
            self.by_chrom.setdefault(c, []).append(p)
        for v in self.by_chrom.values():
            v.sort()
        self.samples: list[str] | None = None
        self.chrom_names: dict[str, str] = {}
        self.formats: dict[str, tuple[int, int]] = {}  # FORMAT column → (GT index, PS index or -1)
        self.simple: set[str] = set()  # FORMATs with GT first and no PS
        self.gt_memo: dict[tuple[str, ...], dict[str, Call | None]] = {}  # record alleles → GT(+PS) → Call
        # (REF, ALT) → (alleles, their GT memo)
        self.shapes: dict[tuple[str, str], tuple[list[str], dict[str, Call | None]]] = {}
        self.data = VcfData([])
        self.saw_fileformat = False
        self.ncols = 0

    def line(self, lineno: int, line: str) -> None:
        name = self.name
        if not line:
            return
        if line.startswith("##"):
            if lineno == 1 and line.startswith("##fileformat="):
                self.saw_fileformat = True
            low = line.lower()
            build_line = low.startswith(("##contig", "##reference", "##assembly"))
            if build_line and (
                any(t in low for t in ("grch37", "hg19", "b37", "hs37d5", "human_g1k_v37"))
                or f"length={_GRCH37_CHR1}" in low
            ):
                raise VcfError(
                    f"{name}:{lineno}: this VCF is on GRCh37/hg19; PGx definitions are GRCh38. "
                    "Lift it over to GRCh38 (e.g. with bcftools +liftover or Picard LiftoverVcf) first."
                )
            return
        if line.startswith("#"):
            if not line.upper().startswith("#CHROM"):
                return  # a comment line
            header = line.lstrip("#").split("\t")
            if header[:8] != ["CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]:
                raise VcfError(f"{name}:{lineno}: bad header line; expected #CHROM POS ID REF ALT QUAL FILTER INFO")
            if len(header) > 9 and header[8] != "FORMAT":
                raise VcfError(f"{name}:{lineno}: bad header line; column 9 must be FORMAT")
            self.samples = header[9:]
            self.ncols = len(header)
            self.data.samples = self.samples
            return
        if self.samples is None:
            what = "no ##fileformat line and " if not self.saw_fileformat else ""
            raise VcfError(f"{name}:{lineno}: data before the #CHROM header line ({what}bad header)")
        ntabs = line.count("\t")
        if ntabs + 1 != self.ncols:
            if ntabs + 1 < 8:
                raise VcfError(f"{name}:{lineno}: truncated line ({ntabs + 1} of {self.ncols} columns)")
            raise VcfError(
                f"{name}:{lineno}: wrong number of sample columns ({ntabs + 1} columns, header has {self.ncols})"
            )
        # Split only the fixed columns; sample columns are split only for PGx positions.
        self.record(lineno, line.split("\t", 8))

    def _chrom(self, raw: str) -> str:
        chrom = self.chrom_names.get(raw)
        if chrom is None:
            chrom = self.chrom_names[raw] = normalize_chrom(raw)
        return chrom

    def fast_block(self, first: int, block: list[str]) -> bool:
        """Handle a block whose lines are all well-formed data lines; False (nothing done) otherwise."""
        ntabs = self.ncols - 1
        if not all(line.count("\t") == ntabs and line[:1] != "#" for line in block):
            return False
        cols = [line.split("\t", 8) for line in block]
        names = self.chrom_names
        for raw in {c[0] for c in cols} - names.keys():
            self._chrom(raw)
        try:
            keys = [(names[c[0]], int(c[1])) for c in cols]
        except ValueError:
            return False  # a bad POS: the line-by-line path names the line
        want = self.want
        if not self.samples:
            return True
        single = len(self.samples) == 1
        refs, columns, ref_of, shapes, simple = self.data.refs, self.data.columns, self.ref_of, self.shapes, self.simple
        blocks = _SYMBOLIC_REF_BLOCK
        for k in [k for k, key in enumerate(keys) if key in want or cols[k][4] in blocks]:
            c = cols[k]
            alt = c[4]
            if alt in blocks:
                self.record(first + k, c)
                continue
            key, ref = keys[k], c[3]
            if single:  # the common case inline: first record here, REF as defined, GT-only FORMAT, a seen GT
                shape = shapes.get((ref, alt))
                fmt, _, sample = c[8].partition("\t")
                if shape is not None and fmt in simple and key not in refs and ref_of.get(key, ref) == ref:
                    call = shape[1].get(sample.partition(":")[0], _UNSEEN)
                    if call is not _UNSEEN:
                        refs[key] = ref
                        if call is not None:
                            columns[key] = [call]
                        continue
            self._site(first + k, key, ref, alt, c[8])
        return True

    def record(self, lineno: int, cols: list[str]) -> None:
        """One data line split into its 8 fixed columns and the rest (FORMAT and samples)."""
        name = self.name
        chrom = self._chrom(cols[0])
        try:
            pos = int(cols[1])
        except ValueError:
            raise VcfError(f"{name}:{lineno}: POS {cols[1]!r} is not a number") from None
        positions = self.by_chrom.get(chrom)
        if not positions or not self.samples:
            return
        alt_field = cols[4]
        if not _maybe_block(alt_field):
            if (chrom, pos) in self.want:
                self._site(lineno, (chrom, pos), cols[3], alt_field, cols[8])
            return
        end = pos
        for item in cols[7].split(";"):
            if item.startswith("END="):
                try:
                    end = int(item[4:])
                except ValueError:
                    raise VcfError(f"{name}:{lineno}: INFO END={item[4:]!r} is not a number") from None
        alts = [a for a in alt_field.split(",") if a != "."]
        if end == pos and not (alts and all(a in _SYMBOLIC_REF_BLOCK for a in alts)):
            if (chrom, pos) in self.want:  # e.g. ALT "." at one position: a plain record
                self._site(lineno, (chrom, pos), cols[3], alt_field, cols[8])
            return
        # a gVCF reference block: every PGx position it covers is reference (or <NON_REF>) for each sample
        sample_cols = cols[8].split("\t")
        gt_i, ps_i = self._format(sample_cols[0], lineno)
        for p in ([pos] if end == pos else [p for p in positions if pos <= p <= end]):
            key = (chrom, p)
            if key not in self.want:
                continue
            expected = self.ref_of.get(key)
            alleles = [expected if expected is not None else cols[3]] + ["<NON_REF>"] * len(alts)
            self.data.refs[key] = alleles[0]
            parsed = self.gt_memo.setdefault(tuple(alleles), {})
            _read_samples(self.data, key, sample_cols, alleles, gt_i, ps_i, f"{name}:{lineno}", parsed)

    def _format(self, fmt_text: str, lineno: int) -> tuple[int, int]:
        found = self.formats.get(fmt_text)
        if found is None:
            fmt = fmt_text.split(":")
            if "GT" not in fmt:
                raise VcfError(f"{self.name}:{lineno}: FORMAT has no GT field")
            found = self.formats[fmt_text] = (fmt.index("GT"), fmt.index("PS") if "PS" in fmt else -1)
            if found == (0, -1):
                self.simple.add(fmt_text)
        return found

    def _site(self, lineno: int, key: tuple[str, int], ref: str, alt_field: str, rest: str) -> None:
        """A plain record (not a reference block) at a PGx position; ``rest``: FORMAT and sample columns."""
        data = self.data
        expected = self.ref_of.get(key)
        if expected is not None and ref != expected:
            if data.refs.get(key) == expected:
                return  # another record at this position already matched the definition
            data.warnings.append(
                f"{key[0]}:{key[1]}: REF {ref} in the VCF does not match the definition's reference {expected}"
            )
        data.refs[key] = ref
        shape = self.shapes.get((ref, alt_field))
        if shape is None:
            alleles = [ref, *(a for a in alt_field.split(",") if a != ".")]
            shape = self.shapes[(ref, alt_field)] = (alleles, self.gt_memo.setdefault(tuple(alleles), {}))
        alleles, parsed = shape
        fmt_text, _, samples_text = rest.partition("\t")
        gt_i, ps_i = self._format(fmt_text, lineno)
        if gt_i == 0 and ps_i < 0 and len(self.data.samples) == 1:  # one sample, GT first: the common case
            gt = samples_text.partition(":")[0]
            call = parsed.get(gt, _UNSEEN)
            if call is _UNSEEN:
                call = parsed[gt] = _parse_gt(gt, alleles, f"{self.name}:{lineno} sample {data.samples[0]}")
            if call is not None:
                column = data.columns.get(key)
                if column is None:
                    data.columns[key] = [call]
                else:
                    column[0] = call
        else:
            _read_samples(data, key, rest.split("\t"), alleles, gt_i, ps_i, f"{self.name}:{lineno}", parsed)


_UNSEEN = Call((), False)


def _maybe_block(alt_field: str) -> bool:
    """A gVCF reference block ALT (``<NON_REF>``, ``<*>``, ``.``), whose INFO END= may cover PGx positions.
    (A variant record such as ``A,<NON_REF>`` is a plain record.)"""
    return alt_field in _SYMBOLIC_REF_BLOCK
