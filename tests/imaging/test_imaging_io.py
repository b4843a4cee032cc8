"""Image reading: DICOM (rescale, MONOCHROME1, spacing, windows, multi-frame, compressed syntaxes), PNG, NRRD, NIfTI."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import nrrd
import numpy as np
import pytest
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless, SecondaryCaptureImageStorage, generate_uid

from hygeia.imaging.io import ImageInputError, read_image, to_uint8


def write_dicom(path: Path, pixels: np.ndarray, photometric: str = "MONOCHROME2", slope: float = 1.0,
                intercept: float = 0.0, window: tuple[float, float] | None = None, syntax: str = ExplicitVRLittleEndian,
                raw: bytes | None = None) -> Path:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = syntax
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = "1.2.3.4"
    ds.Modality = "CT"
    frames = pixels.shape[0] if pixels.ndim == 3 else 1
    ds.Rows, ds.Columns = pixels.shape[-2:]
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    ds.PixelSpacing = [0.5, 0.25]
    ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
    if window:
        ds.WindowCenter, ds.WindowWidth = window
    if raw is not None:
        from pydicom.encaps import encapsulate

        ds.PixelData = encapsulate([raw])
        ds["PixelData"].VR = "OB"
    else:
        ds.PixelData = pixels.astype(np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def test_dicom_rescale_spacing_and_window(tmp_path: Path) -> None:
    raw = np.arange(16, dtype=np.uint16).reshape(4, 4) * 100
    img = read_image(write_dicom(tmp_path / "ct.dcm", raw, slope=2.0, intercept=-1024.0, window=(40, 400)))
    assert img.pixels[0, 1] == pytest.approx(100 * 2 - 1024)
    assert img.spacing == (0.5, 0.25) and img.window == (40.0, 400.0)
    assert img.metadata["study_uid"] == "1.2.3.4"
    disp = img.display()
    assert disp.dtype == np.uint8 and disp.min() == 0 and disp.max() == 255  # -1024 HU below, 1976 HU above window


def test_monochrome1_is_inverted(tmp_path: Path) -> None:
    raw = np.array([[0, 1000], [2000, 3000]], np.uint16)
    img = read_image(write_dicom(tmp_path / "m1.dcm", raw, photometric="MONOCHROME1"))
    assert img.pixels[0, 0] == 3000 and img.pixels[1, 1] == 0  # lowest stored value displays white
    assert img.display()[0, 0] > img.display()[1, 1]


def test_multiframe_dicom(tmp_path: Path) -> None:
    raw = np.stack([np.full((3, 3), k, np.uint16) for k in range(4)])
    img = read_image(write_dicom(tmp_path / "mf.dcm", raw))
    assert img.pixels.shape == (4, 3, 3) and img.metadata["frames"] == 4
    assert [float(f.mean()) for f in img.pixels] == [0, 1, 2, 3]


def test_unsupported_transfer_syntax_names_the_decoder(tmp_path: Path) -> None:
    path = write_dicom(tmp_path / "j2k.dcm", np.zeros((4, 4), np.uint16), syntax=JPEG2000Lossless,
                       raw=b"\xff\x4f\xff\x51 not a real codestream")
    with pytest.raises(ImageInputError, match="pylibjpeg"):
        read_image(path)


def test_not_an_image_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "notes.dcm"
    bad.write_text("hello")
    with pytest.raises(ImageInputError, match=r"notes\.dcm"):
        read_image(bad)
    with pytest.raises(ImageInputError, match="no such file"):
        read_image(tmp_path / "missing.png")
    txt = tmp_path / "x.png"
    txt.write_bytes(b"\x00" * 200)
    with pytest.raises(ImageInputError, match="not a readable image"):
        read_image(txt)


def test_png_grey_and_colour(tmp_path: Path) -> None:
    grey = np.tile(np.arange(0, 256, 16, dtype=np.uint8), (8, 1))
    Image.fromarray(grey).save(tmp_path / "g.png")
    Image.fromarray(np.stack([grey, grey // 2, grey // 3], -1)).save(tmp_path / "c.png")
    assert read_image(tmp_path / "g.png").pixels.shape == (8, 16)
    assert read_image(tmp_path / "c.png").pixels.shape == (8, 16, 3)


def test_nrrd_and_nifti_volumes_with_spacing(tmp_path: Path) -> None:
    vol = np.arange(24, dtype=np.int16).reshape(2, 3, 4)
    nrrd.write(str(tmp_path / "v.nrrd"), vol, {"space": "left-posterior-superior",
                                                "space directions": np.diag([0.5, 0.7, 2.0])})
    img = read_image(tmp_path / "v.nrrd")
    assert img.pixels.shape == (2, 3, 4) and img.spacing == pytest.approx((0.5, 0.7, 2.0))
    nib.save(nib.Nifti1Image(vol.astype(np.float32), np.diag([1.5, 1.5, 3.0, 1.0])), str(tmp_path / "v.nii.gz"))
    img = read_image(tmp_path / "v.nii.gz")
    assert img.pixels.shape == (2, 3, 4) and img.spacing == pytest.approx((1.5, 1.5, 3.0))


def test_window_width_must_be_positive() -> None:
    with pytest.raises(ImageInputError, match="window width"):
        to_uint8(np.zeros((2, 2)), (0, 0))
    assert to_uint8(np.zeros((2, 2))).max() == 0
