"""Read medical images: DICOM (pydicom), PNG/JPEG (Pillow), NIfTI (nibabel) and NRRD (pynrrd).

DICOM handling follows PS3.3 C.11 (Modality LUT: Rescale Slope/Intercept; VOI LUT: Window Center/Width,
linear function of C.11.2.1.2.1) and PS3.3 C.7.6.3.1.2 (MONOCHROME1: minimum value is white, so it is
inverted for display). Compressed transfer syntaxes need an extra decoder; without it the error names
the package to install.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray


class ImageInputError(ValueError):
    """An image file cannot be read; the message names the file and what to do."""


@dataclass
class MedicalImage:
    """Pixel data in physical units (HU for CT where rescaled), with spacing and origin metadata."""

    pixels: NDArray[np.float32]  # (h, w), (h, w, 3) colour, or (frames/slices, h, w)
    spacing: tuple[float, ...] | None  # mm per pixel (row, col[, slice])
    source: str
    modality: str = ""
    photometric: str = ""
    window: tuple[float, float] | None = None  # (center, width) from the file
    metadata: dict[str, Any] = field(default_factory=dict)

    def display(self, window: tuple[float, float] | None = None) -> NDArray[np.uint8]:
        """8-bit display image: VOI window (given, from the file, else 0.5–99.5 percentiles)."""
        return to_uint8(self.pixels, window or self.window)


def to_uint8(pixels: NDArray[np.generic], window: tuple[float, float] | None = None) -> NDArray[np.uint8]:
    """Linear VOI windowing (PS3.3 C.11.2.1.2.1) to 0..255; without a window, robust percentiles."""
    x = np.asarray(pixels, dtype=np.float64)
    if window is not None:
        center, width = window
        if width < 1:
            raise ImageInputError(f"window width must be ≥ 1, got {width}")
        lo, hi = center - 0.5 - (width - 1) / 2, center - 0.5 + (width - 1) / 2
    else:
        lo, hi = (np.percentile(x, [0.5, 99.5]) if x.size else (0.0, 1.0))
    if hi <= lo:
        return np.zeros(x.shape, np.uint8)
    return np.clip((x - lo) / (hi - lo) * 255.0, 0, 255).round().astype(np.uint8)


# Decoders pydicom can use for compressed transfer syntaxes (pydicom 3 "pixel data handlers").
_DECODER_HINT = ("install a decoder: pip install pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg (JPEG, JPEG 2000, "
                 "JPEG-LS) or pip install python-gdcm")


def _first(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(value[0]) if hasattr(value, "__len__") and not isinstance(value, str) else float(value)
    except (TypeError, ValueError, IndexError):
        return None


def read_dicom(path: Path) -> MedicalImage:
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(path)
    except (InvalidDicomError, OSError, EOFError) as exc:
        raise ImageInputError(f"{path}: not a readable DICOM file ({exc})") from None
    if "PixelData" not in ds:
        raise ImageInputError(f"{path}: DICOM has no PixelData (not an image object)")
    syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    try:
        arr = ds.pixel_array
    except (RuntimeError, NotImplementedError, ValueError, AttributeError) as exc:
        name = getattr(syntax, "name", str(syntax))
        if syntax is not None and getattr(syntax, "is_compressed", False):
            raise ImageInputError(f"{path}: transfer syntax {name} ({syntax}) cannot be decoded; "
                                  f"{_DECODER_HINT}") from None
        raise ImageInputError(f"{path}: pixel data cannot be read ({exc})") from None
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2"))
    pixels = np.asarray(arr, dtype=np.float64)
    if photometric.startswith("YBR"):
        from pydicom.pixels import convert_color_space

        pixels = np.asarray(convert_color_space(arr, photometric, "RGB"), dtype=np.float64)
        photometric = "RGB"
    slope = _first(ds.get("RescaleSlope")) or 1.0
    intercept = _first(ds.get("RescaleIntercept")) or 0.0
    pixels = pixels * slope + intercept
    center, width = _first(ds.get("WindowCenter")), _first(ds.get("WindowWidth"))
    window = (center, width) if center is not None and width is not None and width >= 1 else None
    if photometric == "MONOCHROME1":
        # Invert about the value range so that high attenuation displays white (as MONOCHROME2).
        pixels = pixels.max() + pixels.min() - pixels
        if window is not None:
            window = (float(pixels.max() + pixels.min() - window[0]), window[1])
    spacing_tag = ds.get("PixelSpacing") or ds.get("ImagerPixelSpacing")
    spacing = tuple(float(s) for s in spacing_tag) if spacing_tag else None
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    return MedicalImage(
        pixels=pixels.astype(np.float32), spacing=spacing, source=str(path), modality=str(ds.get("Modality", "")),
        photometric=photometric, window=window,
        metadata={"frames": frames, "study_uid": str(ds.get("StudyInstanceUID", "")),
                  "transfer_syntax": str(syntax or ""), "rescale": (slope, intercept)},
    )


def read_image(path: Path) -> MedicalImage:
    """Read DICOM, PNG/JPEG/TIFF, NIfTI (.nii, .nii.gz) or NRRD (.nrrd, .nhdr) by extension/magic."""
    path = Path(path)
    if not path.is_file():
        raise ImageInputError(f"{path}: no such file")
    name = path.name.lower()
    if name.endswith((".nii", ".nii.gz")):
        import nibabel as nib

        try:
            img = nib.load(str(path))
            data = np.asarray(img.dataobj, dtype=np.float32)  # type: ignore[attr-defined]
            zooms = tuple(float(z) for z in img.header.get_zooms()[: data.ndim])  # type: ignore[attr-defined]
        except Exception as exc:  # nibabel raises several kinds for corrupt files
            raise ImageInputError(f"{path}: not a readable NIfTI file ({exc})") from None
        return MedicalImage(pixels=data, spacing=zooms, source=str(path), modality="MR/CT volume")
    if name.endswith((".nrrd", ".nhdr")):
        return read_nrrd(path)
    with path.open("rb") as fh:
        head = fh.read(132)
    if name.endswith(".dcm") or head[128:132] == b"DICM":
        return read_dicom(path)
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            if opened.mode in ("RGB", "RGBA", "P", "CMYK", "YCbCr"):
                data = np.asarray(opened.convert("RGB"), dtype=np.float32)
            elif opened.mode.startswith("I;16") or opened.mode in ("I", "F", "L"):
                data = np.asarray(opened, dtype=np.float32)
            else:
                data = np.asarray(opened.convert("L"), dtype=np.float32)
    except (UnidentifiedImageError, OSError) as exc:
        raise ImageInputError(f"{path}: not a readable image (DICOM, PNG, JPEG, NIfTI, NRRD): {exc}") from None
    if data.ndim == 3 and np.allclose(data[..., 0], data[..., 1]) and np.allclose(data[..., 0], data[..., 2]):
        data = data[..., 0]
    return MedicalImage(pixels=data, spacing=None, source=str(path), modality="photo")


def read_nrrd(path: Path) -> MedicalImage:
    import nrrd

    try:
        data, header = nrrd.read(str(path))
    except Exception as exc:  # pynrrd raises NRRDError and others
        raise ImageInputError(f"{path}: not a readable NRRD file ({exc})") from None
    spacing: tuple[float, ...] | None = None
    directions = header.get("space directions")
    if directions is not None:
        spacing = tuple(float(np.linalg.norm(d)) for d in np.asarray(directions, dtype=float) if np.all(np.isfinite(d)))
    elif "spacings" in header:
        spacing = tuple(float(s) for s in header["spacings"])
    origin = header.get("space origin")
    return MedicalImage(pixels=np.asarray(data, dtype=np.float32), spacing=spacing, source=str(path),
                        modality="volume", metadata={"origin": None if origin is None else list(map(float, origin))})
