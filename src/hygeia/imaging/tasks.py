"""The image classification tasks Hygeia ships models for (MedMNIST v2 data, CC BY 4.0).

Yang J. et al. "MedMNIST v2 - A large-scale lightweight benchmark for 2D and 3D biomedical image
classification." Scientific Data 10, 41 (2023). https://medmnist.com/
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TaskSpec:
    """What a model reads and predicts."""

    name: str  # shipped model name: "pneumonia", "breast", "retina"
    dataset: str  # MedMNIST file stem, e.g. "pneumoniamnist"
    modality: str
    channels: int  # 1 grey, 3 colour
    classes: tuple[str, ...]
    ordinal: bool = False  # classes are ordered grades (retina: DR grade 0-4)
    hflip: bool = False  # horizontal flips are a valid augmentation
    vflip: bool = False
    positive_index: int = 1  # the class "positive" means for binary tasks
    anchor_auc: float = 0.0  # MedMNIST v2 ResNet-18 (28 px) test AUC
    anchor_acc: float = 0.0
    goal_auc: float = 0.0
    intended_use: str = ""
    out_of_scope: str = ""

    @property
    def binary(self) -> bool:
        return len(self.classes) == 2


TASKS: dict[str, TaskSpec] = {
    "pneumonia": TaskSpec(
        name="pneumonia", dataset="pneumoniamnist", modality="chest radiograph (paediatric, AP)", channels=1,
        classes=("normal", "pneumonia"), hflip=False, anchor_auc=0.944, anchor_acc=0.854, goal_auc=0.95,
        intended_use="Triage aid: flag paediatric chest radiographs suggestive of pneumonia for priority reading.",
        out_of_scope="adults (trained on paediatric radiographs, Kermany et al. 2018); other thoracic findings.",
    ),
    "breast": TaskSpec(
        name="breast", dataset="breastmnist", modality="breast ultrasound", channels=1,
        classes=("malignant", "normal/benign"), hflip=True, positive_index=0, anchor_auc=0.901, anchor_acc=0.863,
        goal_auc=0.91,
        intended_use="Second reader for breast ultrasound: estimate of malignancy to prompt review or biopsy "
        "discussion.",
        out_of_scope="mammography or MRI; BI-RADS assignment; lesions not centred in the image.",
    ),
    "retina": TaskSpec(
        name="retina", dataset="retinamnist", modality="colour fundus photograph", channels=3,
        classes=("grade 0", "grade 1", "grade 2", "grade 3", "grade 4"), ordinal=True, hflip=True, vflip=True,
        anchor_auc=0.717, anchor_acc=0.524, goal_auc=0.75,
        intended_use="Diabetic-retinopathy grading aid (5-level ordinal scale) to prioritise screening reads.",
        out_of_scope="other retinal disease (e.g. glaucoma, AMD); macular oedema grading; ungradable images.",
    ),
}


def get_task(name: str) -> TaskSpec:
    """The task called ``name``; a clear error lists the known ones."""
    try:
        return TASKS[name]
    except KeyError:
        raise ValueError(f"unknown imaging task {name!r}; choose one of: {', '.join(TASKS)}") from None
