"""Whole-slide tiling on a small synthetic pyramidal TIFF: background skipped, nuclei counted, report built."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from scipy import ndimage as ndi

from hygeia.pathology import analyse_slide, open_slide, slide_finding
from hygeia.pathology.stain import HE_MATRIX, reconstruct
from hygeia.pathology.wsi import SlideError, analyse_tile, slide_mpp, thumbnail, tile_grid


def synthetic_he_slide(width: int = 768, height: int = 512, seed: int = 0) -> tuple[np.ndarray, int]:
    """Left half tissue (eosin stroma with nuclei of radius ~7 px), right half glass; returns image, n nuclei."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:height, :width]
    tissue = xx < width // 2
    eos = np.where(tissue, ndi.gaussian_filter(rng.uniform(0.3, 0.7, (height, width)), 2), 0.0)
    hema = np.zeros((height, width))
    n = 0
    for cy in range(20, height - 20, 32):
        for cx in range(20, width // 2 - 20, 32):
            y, x = cy + rng.uniform(-5, 5), cx + rng.uniform(-5, 5)
            hema[np.hypot(yy - y, xx - x) < 7] = rng.uniform(0.6, 0.9)
            n += 1
    conc = np.stack([ndi.gaussian_filter(hema, 0.8), eos, np.zeros_like(eos)], -1)
    image = reconstruct(conc, HE_MATRIX).astype(float) + rng.normal(0, 2, (height, width, 3))
    return np.clip(image, 0, 255).astype(np.uint8), n


@pytest.fixture(scope="module")
def slide_path(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    image, n = synthetic_he_slide()
    path = tmp_path_factory.mktemp("wsi") / "synthetic.tiff"
    with tifffile.TiffWriter(path) as tif:
        tif.write(image, tile=(128, 128), photometric="rgb")
    return path, n


def test_tile_grid_covers_the_level_with_clipped_edges() -> None:
    tiles = list(tile_grid(300, 200, 128))
    assert len(tiles) == 6
    assert sum(w * h for _, _, w, h in tiles) == 300 * 200
    assert tiles[-1] == (256, 128, 44, 72)


def test_slide_analysis_skips_glass_and_counts_nuclei(slide_path: tuple[Path, int]) -> None:
    path, n_true = slide_path
    slide = open_slide(path)
    report = analyse_slide(slide, level=0, tile_size=128, mpp=0.5)
    assert report.n_tiles == 24
    assert report.n_skipped == 12 and report.n_analysed == 12
    assert all(t.x < 384 for t in report.tiles)
    # Nuclei cut by tile borders may be counted twice or dropped: allow 15 %.
    assert abs(report.n_nuclei - n_true) <= 0.15 * n_true
    assert report.tissue_area_mm2 == pytest.approx(384 * 512 * 0.25e-6, rel=0.05)
    finding = slide_finding(report, patient_id="p9", slide_name="synthetic")
    assert finding.resources[0]["resourceType"] == "DiagnosticReport"
    assert "12/24 tiles" in finding.summary


def test_thumbnail_is_small_and_keeps_the_layout(slide_path: tuple[Path, int]) -> None:
    slide = open_slide(slide_path[0])
    thumb, down = thumbnail(slide, max_side=100)
    assert max(thumb.shape[:2]) <= 100 and down == 8
    assert thumb[:, : thumb.shape[1] // 2 - 2].mean() < thumb[:, thumb.shape[1] // 2 + 2 :].mean()


def test_mpp_read_from_properties() -> None:
    class Fake:
        def __init__(self) -> None:
            self.properties = {"tiffslide.mpp-x": "0.499"}

    assert slide_mpp(Fake()) == pytest.approx(0.499)
    assert slide_mpp(object()) is None


def test_bad_inputs_give_clear_errors(tmp_path: Path, slide_path: tuple[Path, int]) -> None:
    with pytest.raises(SlideError, match="no such slide"):
        open_slide(tmp_path / "missing.svs")
    junk = tmp_path / "junk.svs"
    junk.write_bytes(b"not a tiff at all")
    with pytest.raises(SlideError, match="not a readable whole-slide image"):
        open_slide(junk)
    slide = open_slide(slide_path[0])
    with pytest.raises(SlideError, match="level 3 does not exist"):
        analyse_slide(slide, level=3)
    with pytest.raises(SlideError, match="too small"):
        analyse_slide(slide, tile_size=8)


def test_glass_tile_has_no_nuclei() -> None:
    result = analyse_tile(np.full((64, 64, 3), 245, np.uint8))
    assert result.n_nuclei == 0 and result.tissue_fraction == 0.0
