"""Whole-slide images: tile a pyramid level, skip background, analyse tissue tiles, report per slide.

Memory stays bounded: the tissue map comes from a low-resolution thumbnail, then one tile at a time is
read, analysed and reduced to a small summary. Slides are read with tiffslide (a pure-Python,
tifffile-based reader of Aperio SVS and generic pyramidal TIFF; no OpenSlide C library needed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from hygeia.pathology.nuclei import NucleiParams, morphology_table, segment_nuclei
from hygeia.pathology.stain import HE_MATRIX, deconvolve, tissue_mask


class SlideError(ValueError):
    """A slide cannot be opened or the requested level/tile does not exist."""


class SlideReader(Protocol):
    level_count: int
    level_dimensions: tuple[tuple[int, int], ...]
    level_downsamples: tuple[float, ...]

    def read_region(
        self, location: tuple[int, int], level: int, size: tuple[int, int], as_array: bool = ...
    ) -> Any:
        ...


def open_slide(path: Path) -> Any:
    """Open a whole-slide image (SVS, pyramidal TIFF) with tiffslide; errors say what is wrong."""
    if not path.is_file():
        raise SlideError(f"{path}: no such slide file")
    try:
        import tiffslide
    except ImportError:  # pragma: no cover - a runtime dependency
        raise SlideError("reading whole-slide images needs tiffslide: pip install tiffslide") from None
    try:
        return tiffslide.TiffSlide(path)
    except Exception as exc:  # tifffile raises many kinds for a non-TIFF
        raise SlideError(f"{path}: not a readable whole-slide image ({type(exc).__name__}: {exc})") from None


@dataclass(frozen=True)
class TileResult:
    x: int  # level-0 coordinates of the tile's top-left corner
    y: int
    tissue_fraction: float
    tissue_pixels: int
    n_nuclei: int
    n_atypical: int
    mean_hematoxylin: float
    mean_eosin: float


@dataclass
class SlideReport:
    level: int
    tile_size: int
    n_tiles: int
    n_analysed: int
    n_skipped: int
    tissue_area_mm2: float | None
    n_nuclei: int
    n_atypical: int
    nuclei_per_mm2: float | None
    tiles: list[TileResult] = field(default_factory=list)

    @property
    def atypical_fraction(self) -> float:
        return self.n_atypical / self.n_nuclei if self.n_nuclei else 0.0


NUCLEUS_RADIUS_UM = 3.5  # typical nuclear radius (diameters of 5-10 µm in most tissues)


def analyse_tile(rgb: NDArray[np.uint8], x: int = 0, y: int = 0, radius_px: float | None = None) -> TileResult:
    """Tissue fraction, nuclei (on the haematoxylin channel) and stain means of one RGB tile (pure).

    ``radius_px``: the expected nucleus radius in pixels (from the slide's resolution); estimated from
    the tile when unknown.
    """
    tissue = tissue_mask(rgb)
    conc = deconvolve(rgb, HE_MATRIX)
    hema = np.where(tissue, np.clip(conc[..., 0], 0, None), 0.0)
    n = atypical = 0
    if tissue.mean() > 0.02 and hema.max() > 0.1:
        labels = segment_nuclei(hema, NucleiParams(radius=radius_px))
        rows = morphology_table(labels, hema)
        n, atypical = len(rows), sum(r.atypical for r in rows)
    sel = tissue if tissue.any() else np.ones(tissue.shape, bool)
    return TileResult(x=x, y=y, tissue_fraction=float(tissue.mean()), tissue_pixels=int(tissue.sum()), n_nuclei=n,
                      n_atypical=atypical, mean_hematoxylin=float(conc[..., 0][sel].mean()),
                      mean_eosin=float(conc[..., 1][sel].mean()))


def tile_grid(width: int, height: int, tile: int) -> Iterator[tuple[int, int, int, int]]:
    """Tiles (x, y, w, h) covering a width × height level; edge tiles are clipped."""
    for ty in range(0, height, tile):
        for tx in range(0, width, tile):
            yield tx, ty, min(tile, width - tx), min(tile, height - ty)


def thumbnail(slide: SlideReader, max_side: int = 1024, strip_rows: int = 256) -> tuple[NDArray[np.uint8], float]:
    """A small RGB overview (longest side ≤ ``max_side``) read strip by strip from the coarsest level,
    block-averaged so memory stays bounded; returns it with its downsample relative to level 0."""
    level = slide.level_count - 1
    width, height = slide.level_dimensions[level]
    factor = max(1, int(np.ceil(max(width, height) / max_side)))
    out_w, out_h = width // factor, height // factor
    if out_w == 0 or out_h == 0:
        raise SlideError(f"slide level {level} ({width}×{height}) is too small to tile")
    rows = max(1, strip_rows // factor) * factor
    strips = []
    for y in range(0, out_h * factor, rows):
        h = min(rows, out_h * factor - y)
        strip = np.asarray(slide.read_region((0, int(y * slide.level_downsamples[level])), level, (out_w * factor, h),
                                             as_array=True))[..., :3]
        strips.append(strip.reshape(h // factor, factor, out_w, factor, 3).mean(axis=(1, 3)).astype(np.uint8))
    return np.concatenate(strips, axis=0), factor * float(slide.level_downsamples[level])


def analyse_slide(slide: SlideReader, level: int = 0, tile_size: int = 512, min_tissue: float = 0.25,
                  mpp: float | None = None, progress: Callable[[int, int], None] | None = None) -> SlideReport:
    """Tile ``level``, skip tiles with less than ``min_tissue`` tissue (judged on a thumbnail), analyse the rest."""
    if not 0 <= level < slide.level_count:
        raise SlideError(f"level {level} does not exist; the slide has levels 0..{slide.level_count - 1}")
    if tile_size < 32:
        raise SlideError(f"tile size {tile_size} is too small (minimum 32 px)")
    thumb, thumb_down = thumbnail(slide)
    thumb_tissue = tissue_mask(thumb)
    width, height = slide.level_dimensions[level]
    down = slide.level_downsamples[level]
    scale = down / thumb_down  # level px → thumbnail px
    grid = list(tile_grid(width, height, tile_size))
    radius_px = NUCLEUS_RADIUS_UM / (mpp * down) if mpp else None
    results: list[TileResult] = []
    skipped = 0
    for i, (tx, ty, w, h) in enumerate(grid):
        y0, x0 = int(ty * scale), int(tx * scale)
        window = thumb_tissue[y0 : max(y0 + 1, int((ty + h) * scale)), x0 : max(x0 + 1, int((tx + w) * scale))]
        if window.size == 0 or window.mean() < min_tissue:
            skipped += 1
        else:
            x_l0, y_l0 = int(tx * down), int(ty * down)
            tile = np.asarray(slide.read_region((x_l0, y_l0), level, (w, h), as_array=True))[..., :3]
            results.append(analyse_tile(np.ascontiguousarray(tile), x_l0, y_l0, radius_px))
        if progress:
            progress(i + 1, len(grid))
    n_nuclei = sum(r.n_nuclei for r in results)
    n_atyp = sum(r.n_atypical for r in results)
    area = None
    if mpp:
        px_area_mm2 = (mpp * down / 1000.0) ** 2
        area = sum(r.tissue_pixels for r in results) * px_area_mm2
    return SlideReport(level=level, tile_size=tile_size, n_tiles=len(grid), n_analysed=len(results),
                       n_skipped=skipped, tissue_area_mm2=area, n_nuclei=n_nuclei, n_atypical=n_atyp,
                       nuclei_per_mm2=n_nuclei / area if area else None, tiles=results)


def slide_mpp(slide: Any) -> float | None:
    """Microns per pixel at level 0 from the slide's properties, when recorded."""
    props = getattr(slide, "properties", {}) or {}
    for key in ("tiffslide.mpp-x", "openslide.mpp-x", "aperio.MPP"):
        value = props.get(key)
        if value:
            try:
                return float(value)
            except (TypeError, ValueError):
                continue
    return None
