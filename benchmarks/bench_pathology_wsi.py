"""Whole-slide tiling: tiles/s and peak memory of the streaming analysis, against the obvious alternative of
loading the whole level into memory first. Run: python benchmarks/bench_pathology_wsi.py"""

from __future__ import annotations

import statistics
import time
import tracemalloc

import numpy as np

from hygeia.config import get_settings
from hygeia.pathology import analyse_slide, open_slide
from hygeia.pathology.stain import tissue_mask
from hygeia.pathology.wsi import slide_mpp

REPEATS = 3


def main() -> None:
    path = get_settings().reference("imaging", "pathology", "cmu_small_region.svs")
    if not path.exists():
        print(f"skipped: {path} not found (set HYGEIA_REFERENCE_DIR)")
        return
    slide = open_slide(path)
    times, peaks, analysed = [], [], 0
    for _ in range(REPEATS):
        tracemalloc.start()
        start = time.perf_counter()
        report = analyse_slide(slide, level=0, tile_size=512, mpp=slide_mpp(slide))
        times.append(time.perf_counter() - start)
        peaks.append(tracemalloc.get_traced_memory()[1] / 1e6)
        tracemalloc.stop()
        analysed = report.n_analysed
    t = statistics.median(times)
    width, height = slide.level_dimensions[0]
    tracemalloc.start()
    whole = np.asarray(slide.read_region((0, 0), 0, (width, height), as_array=True))[..., :3]
    tissue_mask(whole)  # the naive route: whole level in memory, then a tissue map at full resolution
    naive_peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    print(f"slide {path.name}: level 0 {width}x{height}, 512 px tiles, {report.n_tiles} tiles, "
          f"{analysed} analysed, {report.n_skipped} skipped as background")
    print(f"streaming analysis: {report.n_tiles / t:.2f} tiles/s ({analysed / t:.2f} analysed tiles/s), "
          f"median {t:.1f} s of {REPEATS}")
    print(f"peak traced memory: streaming {statistics.median(peaks):.0f} MB vs whole-level tissue map "
          f"{naive_peak:.0f} MB (ratio {naive_peak / statistics.median(peaks):.1f}x)")


if __name__ == "__main__":
    main()
