"""Medical imaging: read DICOM/PNG/JPEG/NIfTI/NRRD, run shipped ONNX classifiers (pneumonia, breast,
retina), explain them with occlusion saliency, give second opinions, and compute radiomics features.
Training (torch) lives in :mod:`hygeia.imaging.train` and is optional."""

from hygeia.imaging.explain import Disagreement, occlusion_saliency, overlay, second_opinion
from hygeia.imaging.findings import prediction_finding
from hygeia.imaging.io import ImageInputError, MedicalImage, read_image, to_uint8
from hygeia.imaging.metrics import accuracy, auc, bootstrap_ci, calibration
from hygeia.imaging.model import ImageModel, ModelError, resolve_model_dir
from hygeia.imaging.npz_data import DataError, Split, load_split
from hygeia.imaging.radiomics import first_order, shape_3d
from hygeia.imaging.tasks import TASKS, TaskSpec, get_task

__all__ = [
    "TASKS", "DataError", "Disagreement", "ImageInputError", "ImageModel", "MedicalImage", "ModelError", "Split",
    "TaskSpec", "accuracy", "auc", "bootstrap_ci", "calibration", "first_order", "get_task", "load_split",
    "occlusion_saliency", "overlay", "prediction_finding", "read_image", "resolve_model_dir", "second_opinion",
    "shape_3d", "to_uint8",
]
