"""Small synthetic inputs for the engine tests (no reference data)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING

from hygeia.pgx import KnowledgeBase
from hygeia.pgx.kb import GeneDefinition, Locus, NamedAllele

if TYPE_CHECKING:
    from hygeia.records.store import Store


def _gene(name: str, chrom: str, base: int) -> GeneDefinition:
    loci = (
        Locus(chrom, base, "rs1", "C", ("T",)),
        Locus(chrom, base + 100, "rs2", "G", ("A",)),
        Locus(chrom, base + 200, "rs3", "A", ("G",)),
    )
    alleles = (
        NamedAllele("*1", ("C", "G", "A"), True),
        NamedAllele("*2", ("T", None, None), False),
        NamedAllele("*3", (None, "A", None), False),
        NamedAllele("*4", ("T", None, "G"), False),
    )
    return GeneDefinition(name, chrom, "test", loci, alleles)


def tiny_kb() -> KnowledgeBase:
    table = {
        "gene": "GENEA",
        "namedAlleles": [
            {"name": "*1", "functionValue": "Normal function", "activityValue": "1.0"},
            {"name": "*2", "functionValue": "No function", "activityValue": "0.0"},
            {"name": "*3", "functionValue": "Decreased function", "activityValue": "0.5"},
        ],
        "activityValues": {"*1": "1.0", "*2": "0.0", "*3": "0.5"},
        "diplotypes": [
            {
                "diplotypekey": {"*1": 2},
                "phenotype": "Normal Metabolizer",
                "lookupkey": "Normal Metabolizer",
                "activityScore": "2.0",
            },
            {
                "diplotypekey": {"*1": 1, "*2": 1},
                "phenotype": "Intermediate Metabolizer",
                "lookupkey": "Intermediate Metabolizer",
                "activityScore": "1.0",
            },
            {
                "diplotypekey": {"*2": 2},
                "phenotype": "Poor Metabolizer",
                "lookupkey": "Poor Metabolizer",
                "activityScore": "0.0",
            },
        ],
    }
    guideline = {
        "guideline": {
            "name": "Test guideline for drugx and GENEA",
            "source": "CPIC",
            "url": "https://example.org/g",
            "relatedChemicals": [{"name": "drugx"}],
        },
        "recommendations": [
            {
                "lookupKey": {"GENEA": "Poor Metabolizer"},
                "classification": {"term": "Strong"},
                "text": {"html": "<p>Avoid drugx.</p>"},
                "relatedChemicals": [{"name": "drugx"}],
            },
            {
                "lookupKey": {"GENEA": "Normal Metabolizer"},
                "classification": {"term": "Strong"},
                "text": {"html": "<p>Use label-recommended dose.</p>"},
                "relatedChemicals": [{"name": "drugx"}],
            },
        ],
        "citations": [],
    }
    return KnowledgeBase(
        Path("."),
        {"test": "abc"},
        {"GENEA": _gene("GENEA", "chr1", 100), "GENEB": _gene("GENEB", "chr2", 5000)},
        {"CPIC:GENEA": table},
        [guideline],
    )


def write_multisample_vcf(kb: KnowledgeBase, path: Path, n: int, seed: int = 3) -> None:
    """``n`` samples with random genotypes at every definition position (some phased, some missing),
    plus non-PGx lines that the splitter drops."""
    rng = random.Random(seed)
    rows = []
    for d in kb.definitions.values():
        for locus in d.loci:
            gts = []
            for _ in range(n):
                r = rng.random()
                if r < 0.05:
                    gts.append("./.")
                else:
                    a, b = rng.random() < 0.3, rng.random() < 0.3
                    gts.append(f"{int(a)}{'|' if r < 0.4 else '/'}{int(b)}")
            rows.append((locus.chrom, locus.position, locus.ref, locus.alts[0], gts))
        rows.append((d.chromosome, d.loci[0].position + 1, "A", "C", ["0/1"] * n))  # not a PGx position
    with open(path, "w", encoding="utf-8") as fh:
        fh.write("##fileformat=VCFv4.2\n##contig=<ID=chr1,length=248956422>\n")
        fh.write(
            "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t" + "\t".join(f"S{i}" for i in range(n)) + "\n"
        )
        for chrom, pos, ref, alt, gts in sorted(rows):
            fh.write(f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t.\tPASS\t.\tGT\t" + "\t".join(gts) + "\n")


VITAL_CODES = {
    "pulse": ("8867-4", "/min"),
    "rr": ("9279-1", "/min"),
    "sbp": ("8480-6", "mm[Hg]"),
    "temp": ("8310-5", "Cel"),
    "gcs": ("9269-2", "{score}"),
    "spo2": ("59408-5", "%"),
    "fio2": ("3150-0", "%"),
}


def populate_store(store: Store, patients: int, seed: int = 5, notes: bool = False) -> list[str]:
    """``patients`` patients with three rounds of vital signs each (some missing), written in one batch."""
    from datetime import UTC, datetime, timedelta

    from hygeia.records import codes

    rng = random.Random(seed)
    t0 = datetime(2024, 3, 1, 8, tzinfo=UTC)
    resources: list[dict[str, object]] = []
    ids = [f"pt-{i:03d}" for i in range(patients)]
    for pid in ids:
        resources.append(
            {
                "resourceType": "Patient",
                "id": pid,
                "gender": rng.choice(["female", "male"]),
                "birthDate": f"{rng.randint(1930, 2000)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                "name": [{"family": rng.choice(["Hargreaves", "Okafor", "Lindqvist"]), "given": ["Ann"]}],
            }
        )
        for r in range(3):
            when = t0 + timedelta(hours=2 * r + rng.random())
            values = {
                "pulse": rng.gauss(90, 25),
                "rr": rng.gauss(18, 6),
                "sbp": rng.gauss(115, 25),
                "temp": rng.gauss(37.4, 0.9),
                "gcs": rng.choice([15, 15, 15, 13]),
                "spo2": rng.gauss(95, 3),
                "fio2": rng.choice([21, 21, 40]),
            }
            for name, value in values.items():
                if rng.random() < 0.1:
                    continue
                code, unit = VITAL_CODES[name]
                v = min(round(value, 1), 100.0) if name in ("spo2",) else round(value, 1)
                resources.append(
                    {
                        "resourceType": "Observation",
                        "id": f"{pid}-{name}-{r}",
                        "status": "final",
                        "code": {"coding": [{"system": codes.LOINC, "code": code}]},
                        "subject": {"reference": f"Patient/{pid}"},
                        "effectiveDateTime": when.isoformat(),
                        "valueQuantity": {"value": max(v, 1.0), "unit": unit, "system": codes.UCUM, "code": unit},
                    }
                )
    store.write(resources)
    return ids


def make_notes(n: int, seed: int = 11) -> list[tuple[str, str, str | None]]:
    """Synthetic clinical notes with names, dates, phone numbers and record numbers."""
    rng = random.Random(seed)
    names = ["Margaret Hargreaves", "Dr. Okafor", "John Lindqvist", "Mrs. Patel", "nurse Brennan"]
    out: list[tuple[str, str, str | None]] = []
    for i in range(n):
        text = (
            f"Seen by {rng.choice(names)} on {rng.randint(1, 12)}/{rng.randint(1, 28)}/20{rng.randint(10, 24)}. "
            f"Pt reports chest pain 3/10, BP 128/{rng.randint(60, 90)}. Call {rng.randint(200, 999)}-555-"
            f"{rng.randint(1000, 9999)} or page MRN {rng.randint(10**6, 10**7)}. Started metoprolol."
        )
        out.append((f"note-{i}", text, f"p{i % 7}"))
    return out
