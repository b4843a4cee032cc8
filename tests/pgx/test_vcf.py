from __future__ import annotations

import contextlib
import gzip
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hygeia.pgx.vcf import VcfData, VcfError, _Parser, normalize_chrom, parse_vcf, read_vcf

HEAD = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\tS2\n"
WANT = {("chr1", 100), ("chr1", 200), ("chr1", 300)}


def _parse(body: str, head: str = HEAD):  # type: ignore[no-untyped-def]
    return parse_vcf((head + body).splitlines(), WANT, {("chr1", 100): "C", ("chr1", 200): "G"}, "t.vcf")


def test_multi_sample_phased_and_prefixes() -> None:
    data = _parse("1\t100\t.\tC\tT\t.\tPASS\t.\tGT\t0|1\t1/1\nchr1\t200\t.\tG\tA\t.\tPASS\t.\tGT:PS\t1|0:5\t0/0\n")
    assert data.samples == ["S1", "S2"]
    assert data.calls[0][("chr1", 100)].alleles == ("C", "T") and data.calls[0][("chr1", 100)].phased
    assert data.calls[1][("chr1", 100)].alleles == ("T", "T") and not data.calls[1][("chr1", 100)].phased
    assert data.calls[0][("chr1", 200)].phase_set == "5"
    assert ("chr1", 300) not in data.calls[0]  # absent = missing, not reference


def test_gvcf_block_covers_positions() -> None:
    data = _parse("chr1\t150\t.\tA\t<NON_REF>\t.\tPASS\tEND=250\tGT\t0/0\t0/0\n")
    assert data.calls[0][("chr1", 200)].alleles == ("G", "G")
    assert ("chr1", 100) not in data.calls[0]


def test_ref_mismatch_warns() -> None:
    data = _parse("chr1\t100\t.\tA\tT\t.\tPASS\t.\tGT\t0/1\t0/0\n")
    assert any("does not match" in w for w in data.warnings)


@pytest.mark.parametrize(
    ("body", "head", "needle"),
    [
        ("chr1\t100\t.\tC\tT\t.\tPASS\t.\tGT\t0/1\t0/0\n", "##fileformat=VCFv4.2\n", "line 2|:2:"),
        ("chr1\tabc\t.\tC\tT\t.\tPASS\t.\tGT\t0/1\t0/0\n", HEAD, "POS"),
        ("chr1\t100\t.\tC\tT\n", HEAD, "truncated"),
        ("chr1\t100\t.\tC\tT\t.\tPASS\t.\tGT\t0/1\n", HEAD, "sample columns"),
        ("", "##fileformat=VCFv4.2\n#CHROM\tPOS\tREF\n", "bad header"),
        ("chr1\t100\t.\tC\tT\t.\tPASS\t.\tGT\t0/5\t0/0\n", HEAD, "allele 5"),
    ],
)
def test_malformed_names_the_line(body: str, head: str, needle: str) -> None:
    with pytest.raises(VcfError) as err:
        _parse(body, head)
    msg = str(err.value)
    assert "t.vcf:" in msg
    assert any(n in msg for n in needle.split("|"))


def test_grch37_refused() -> None:
    head = "##fileformat=VCFv4.2\n##contig=<ID=1,length=249250621,assembly=b37>\n" + HEAD.split("\n", 1)[1]
    with pytest.raises(VcfError, match="GRCh37"):
        _parse("", head)


def test_bgzip_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "x.vcf.gz"
    with gzip.open(path, "wt") as fh:
        fh.write(HEAD + "chr1\t100\t.\tC\tT\t.\tPASS\t.\tGT\t0/1\t0/0\n")
    assert read_vcf(path, WANT).calls[0][("chr1", 100)].alleles == ("C", "T")
    with pytest.raises(VcfError, match="not found"):
        read_vcf(tmp_path / "nope.vcf", WANT)


def test_normalize_chrom() -> None:
    assert normalize_chrom("1") == normalize_chrom("chr1") == "chr1"
    assert normalize_chrom("MT") == "chrM"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet="chr1\t0123456789ACGT./|:#<>=,;PASSGT\n ", max_size=60), max_size=8))
def test_garbage_never_crashes(lines: list[str]) -> None:
    with contextlib.suppress(VcfError):
        parse_vcf([HEAD.splitlines()[1], *lines], WANT)


def _slow(lines: list[str], want: set[tuple[str, int]] = WANT,
          ref_of: dict[tuple[str, int], str] | None = None) -> VcfData:
    """Every line through the line-by-line path (the fast block path must agree with it)."""
    parser = _Parser(want, {("chr1", 100): "C", ("chr1", 200): "G"} if ref_of is None else ref_of, "t.vcf")
    for n, line in enumerate(lines, start=1):
        parser.line(n, line.rstrip("\r\n"))
    return parser.data


_RECORD = st.tuples(
    st.sampled_from(["1", "chr1", "2"]), st.sampled_from([100, 150, 200, 300]), st.sampled_from(["C", "G", "A"]),
    st.sampled_from(["T", "A", ".", "<NON_REF>", "T,A", "A,<NON_REF>"]), st.sampled_from([".", "END=250", "END=400"]),
    st.sampled_from(["GT", "GT:PS", "PS:GT", "GT:DP"]),
    st.lists(st.sampled_from(["0/0", "0/1", "1|0", "./.", "1", "0|1:7", "2/1", "0/1:."]), min_size=2, max_size=2),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_RECORD, max_size=8), st.sampled_from([1, 2]))
def test_fast_path_agrees_with_line_by_line(records: list[tuple[str, int, str, str, str, str, list[str]]],
                                            n_samples: int) -> None:
    body = [f"{c}\t{p}\t.\t{r}\t{a}\t.\tPASS\t{i}\t{f}\t" + "\t".join(g[:n_samples])
            for c, p, r, a, i, f, g in records]
    head = HEAD.splitlines()
    lines = [head[0], head[1] if n_samples == 2 else head[1].removesuffix("\tS2"), *body]
    try:
        fast: VcfData | str = parse_vcf(lines, WANT, {("chr1", 100): "C", ("chr1", 200): "G"}, "t.vcf")
    except VcfError as exc:
        fast = str(exc)
    try:
        slow: VcfData | str = _slow(lines)
    except VcfError as exc:
        slow = str(exc)
    assert fast == slow


def test_duplicate_positions_and_blocks_single_sample() -> None:
    head = "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS1\n"
    data = parse_vcf((head + "chr1\t100\t.\tA\tT\t.\tPASS\t.\tGT\t0/1\nchr1\t100\t.\tC\tT\t.\tPASS\t.\tGT\t1/1\n"
                      "chr1\t150\t.\tA\t.\t.\tPASS\tEND=320\tGT\t0/0\n").splitlines(),
                     WANT, {("chr1", 100): "C", ("chr1", 200): "G", ("chr1", 300): "A"}, "t.vcf")
    assert data.calls[0][("chr1", 100)].alleles == ("T", "T")  # the record whose REF matches the definition
    assert data.calls[0][("chr1", 200)].alleles == ("G", "G") and data.calls[0][("chr1", 300)].alleles == ("A", "A")
    assert len(data.warnings) == 1


def test_phase_set_kept_in_single_sample_fast_path() -> None:
    lines = [HEAD.splitlines()[0], HEAD.splitlines()[1].removesuffix("\tS2"),
             "chr1\t100\t.\tC\tT\t.\tPASS\t.\tGT\t0|1", "chr1\t150\t.\tC\tT\t.\tPASS\t.\tGT:PS\t0|1:7"]
    data = parse_vcf(lines, {("chr1", 100), ("chr1", 150)}, {}, "t.vcf")
    assert data.calls[0][("chr1", 150)].phase_set == "7" and data.calls[0][("chr1", 100)].phase_set is None
    assert data == _slow(lines, {("chr1", 100), ("chr1", 150)}, {})
