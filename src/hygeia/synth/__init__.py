"""Deterministic synthetic hospital: FHIR bundles, HL7 v2 ADT, PGx VCFs, outcomes, operations data.

Nothing it writes is real data; every resource is tagged ``hygeia-synthetic``. See docs/synth.md.
"""

from hygeia.synth.generate import NOTICE, SynthError, SynthSummary, generate, write_readme

__all__ = ["NOTICE", "SynthError", "SynthSummary", "generate", "write_readme"]
