"""A tiny PharmCAT-style positions VCF and one shared small generated hospital."""

from __future__ import annotations

from pathlib import Path

import pytest

from hygeia.synth import SynthSummary, generate

# GRCh38 sites of the planted PGx variants (as in PharmCAT's positions file), plus a chrX site and a
# CYP2D6 site. DPYD rs115232898 (c.557A>G) is left out on purpose: that allele must be reported as
# unavailable rather than planted.
_ROWS = """\
chr1	97082391	rs67376798	T	A	.	PASS	PX=DPYD
chr1	97450058	rs3918290	C	T	.	PASS	PX=DPYD
chr1	97573863	rs56038477	C	T	.	PASS	PX=DPYD
chr1	97579893	rs75017182	G	C	.	PASS	PX=DPYD
chr2	233759924	rs887829	C	T	.	PASS	PX=UGT1A1
chr2	233760233	rs3064744	CAT	C,CATAT,CATATAT	.	PASS	PX=UGT1A1
chr2	233760498	rs4148323	G	A	.	PASS	PX=UGT1A1
chr6	18130687	rs1142345	T	C,G	.	PASS	PX=TPMT
chr6	18138997	rs1800460	C	T	.	PASS	PX=TPMT
chr6	18143724	rs1800462	C	G	.	PASS	PX=TPMT
chr7	99652770	rs41303343	T	TA	.	PASS	PX=CYP3A5
chr7	99665212	rs10264272	C	T	.	PASS	PX=CYP3A5
chr7	99672916	rs776746	T	C	.	PASS	PX=CYP3A5
chr10	94761900	rs12248560	C	T	.	PASS	PX=CYP2C19
chr10	94775367	rs12769205	A	G	.	PASS	PX=CYP2C19
chr10	94780653	rs4986893	G	A	.	PASS	PX=CYP2C19
chr10	94781859	rs4244285	G	A	.	PASS	PX=CYP2C19
chr10	94842866	rs3758581	A	G	.	PASS	PX=CYP2C19
chr10	94942290	rs1799853	C	T	.	PASS	PX=CYP2C9
chr10	94942309	rs7900194	G	A,T	.	PASS	PX=CYP2C9
chr10	94981224	rs28371685	C	T	.	PASS	PX=CYP2C9
chr10	94981296	rs1057910	A	C	.	PASS	PX=CYP2C9
chr10	94981301	rs28371686	C	G	.	PASS	PX=CYP2C9
chr12	21176804	rs2306283	A	G	.	PASS	PX=SLCO1B1
chr12	21176879	rs11045819	C	A	.	PASS	PX=SLCO1B1
chr12	21178615	rs4149056	T	C	.	PASS	PX=SLCO1B1
chr13	48045719	rs116855232	C	T	.	PASS	PX=NUDT15
chr16	31096368	rs9923231	C	T	.	PASS	PX=VKORC1
chr19	15879621	rs2108622	C	T	.	PASS	PX=CYP4F2
chr22	42126611	rs16947	G	A	.	PASS	PX=CYP2D6
chrX	154531390	rs5030868	G	A	.	PASS	PX=G6PD
"""

POSITIONS_VCF = (
    "##fileformat=VCFv4.2\n##source=test fixture\n"
    + "".join(
        f"##contig=<ID={c},assembly=GRCh38>\n"
        for c in ("chr1", "chr2", "chr6", "chr7", "chr10", "chr12", "chr13", "chr16", "chr19", "chr22", "chrX")
    )
    + '##INFO=<ID=PX,Number=.,Type=String,Description="Gene">\n'
    + "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
    + _ROWS
)

N_PATIENTS = 30
SEED = 11


@pytest.fixture(scope="session")
def positions_vcf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("pos") / "positions.vcf"
    path.write_text(POSITIONS_VCF)
    return path


@pytest.fixture(scope="session")
def hospital(tmp_path_factory: pytest.TempPathFactory, positions_vcf: Path) -> tuple[Path, SynthSummary]:
    out = tmp_path_factory.mktemp("synth") / "out"
    return out, generate(out, N_PATIENTS, SEED, positions_vcf=positions_vcf)
