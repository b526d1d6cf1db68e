"""The recipe: typed, documented dataclasses for every section of a YAML file.

A recipe file looks like this (every key optional except what the defaults
cannot guess):

```yaml
name: quickstart
seed: 0
data:
  source: fashion_mnist
  batch_size: 128
augment: [pad_crop-p2, flip]
model:
  name: lenet5
  activation: relu
train:
  epochs: 5
  optimizer: {name: adam, learning_rate: 0.002}
  schedule: {name: cosine, warmup_epochs: 1}
```

Sections map to `DataConfig`, `AugmentSpec` items, `ModelConfig`,
`TrainConfig` and `EvalConfig`; `Recipe` holds them. Keys that a dataclass
does not declare are errors, except where it sets `EXTRA_KEYS` (a model's or
schedule's own keywords, checked against the builder's signature).
"""

import dataclasses
from typing import Optional

from kvision.errors import RecipeError
from kvision.recipes.typed import setting
from kvision.registry import AUGMENTATIONS, LEARNERS, MODELS, OPTIMIZERS, SCHEDULES


@dataclasses.dataclass
class DataConfig:
    """Where images come from and how they are split and batched."""

    source: str = setting("fashion_mnist", doc="data source: a registered name, or NAME:ARGUMENT "
                          "(tfds:mnist, image_folder:PATH, npz:PATH)")
    source_options: dict = setting(default_factory=dict, doc="keyword arguments of the source")
    image_size: Optional[list[int]] = setting(None, doc="[height, width] to resize to; "
                                              "null keeps the source's size")
    channels: Optional[int] = setting(None, choices=(1, 3), doc="1 (grayscale) or 3 (RGB); "
                                      "null keeps the source's")
    validation_split: float = setting(0.1, min=0.0, max=1.0, max_exclusive=True,
                                      doc="fraction of the training split held out for validation")
    labeled_per_class: Optional[int] = setting(None, min=1, doc="keep this many labels per class "
                                               "(fixed seed); the rest becomes the unlabeled pool")
    classes: Optional[list[int]] = setting(None, doc="keep only these class indices "
                                           "(relabelled 0..n-1 in the given order)")
    batch_size: int = setting(128, min=1, doc="images per training step")
    eval_batch_size: int = setting(512, min=1, doc="images per evaluation step")
    shuffle_buffer: int = setting(10000, min=1, doc="tf.data shuffle buffer size")
    cache: bool = setting(True, doc="cache decoded images in memory")

    def __post_init__(self):
        if self.image_size is not None and (len(self.image_size) != 2 or min(self.image_size) < 1):
            raise RecipeError("expected [height, width] of positive whole numbers",
                              "data.image_size", self.image_size)


@dataclasses.dataclass
class AugmentSpec:
    """One augmentation: a registered name and its keyword arguments.

    In YAML an item is either a policy string (`randaugment-n2-m9`) or a
    mapping (`{name: randaugment, num_ops: 2, magnitude: 9}`).
    """

    name: str
    options: dict = dataclasses.field(default_factory=dict)

    @classmethod
    def from_recipe(cls, value, path):
        from kvision.augment.policy import parse_policy  # registry-aware parsing

        if isinstance(value, str):
            name, options = parse_policy(value, path)
            return cls(name, options)
        if isinstance(value, dict):
            if "name" not in value:
                raise RecipeError("an augmentation mapping needs a 'name'", path, value,
                                  ", ".join(AUGMENTATIONS.names()))
            options = {k: v for k, v in value.items() if k != "name"}
            name = value["name"]
            if name not in AUGMENTATIONS:
                from kvision.registry import did_you_mean

                raise RecipeError(f"unknown augmentation.{did_you_mean(name, AUGMENTATIONS.names())}"
                                  .rstrip("."), f"{path}.name", name, ", ".join(AUGMENTATIONS.names()))
            return cls(name, options)
        raise RecipeError("expected a policy string or a mapping with 'name'", path, value)

    def to_recipe(self):
        return {"name": self.name, **self.options}


@dataclasses.dataclass
class ModelConfig:
    """The model builder and its keywords (any key besides `name`)."""

    EXTRA_KEYS = "options"
    name: str = setting("lenet5", registry=MODELS, doc="registered model builder")
    options: dict = setting(default_factory=dict, doc="the builder's keyword arguments")


@dataclasses.dataclass
class OptimizerConfig:
    """The optimizer."""

    name: str = setting("adam", registry=OPTIMIZERS, doc="sgd, adam, adamw, ...")
    learning_rate: float = setting(1e-3, min=0.0, min_exclusive=True, doc="peak learning rate")
    weight_decay: float = setting(0.0, min=0.0, doc="decoupled weight decay")
    momentum: float = setting(0.9, min=0.0, max=1.0, max_exclusive=True, doc="sgd momentum")
    nesterov: bool = setting(False, doc="Nesterov momentum (sgd)")
    clipnorm: Optional[float] = setting(None, min=0.0, min_exclusive=True,
                                        doc="clip each gradient to this norm")
    ema: bool = setting(False, doc="keep an exponential moving average of the weights; the "
                        "final model (evaluation, export) uses it")
    ema_momentum: float = setting(0.99, min=0.0, max=1.0, max_exclusive=True,
                                  doc="momentum of the weight average")


@dataclasses.dataclass
class ScheduleConfig:
    """The learning-rate schedule; keys besides these are the schedule's own."""

    EXTRA_KEYS = "options"
    name: str = setting("constant", registry=SCHEDULES, doc="constant, cosine, step")
    warmup_epochs: float = setting(0.0, min=0.0, doc="linear warm-up from 0, in epochs")
    options: dict = setting(default_factory=dict, doc="the schedule's keyword arguments")


@dataclasses.dataclass
class TransferConfig:
    """Settings of the `transfer` learner (kvision/transfer/learner.py)."""

    mode: str = setting("finetune", choices=("linear_probe", "finetune", "lp_ft"),
                        doc="linear_probe (backbone frozen), finetune, or lp_ft (linear probe for "
                        "probe_epochs, then fine-tune)")
    backbone_lr_multiplier: float = setting(0.1, min=0.0, max=1.0, doc="the backbone's learning "
                                            "rate as a fraction of the head's")
    unfreeze: str = setting("all", choices=("all", "last_n_blocks"), doc="what of the backbone "
                            "fine-tuning trains")
    blocks: int = setting(1, min=1, doc="blocks trained by unfreeze: last_n_blocks")
    probe_epochs: int = setting(1, min=1, doc="lp_ft: epochs of linear probing first")
    freeze_batch_norm: bool = setting(True, doc="keep the backbone's BatchNorm layers frozen, in "
                                      "inference mode")


@dataclasses.dataclass
class DistillConfig:
    """Settings of the `distill` learner (kvision/distill)."""

    teacher: Optional[str] = setting(None, doc="the teacher: stage:NAME, a run folder or a .keras file")
    temperature: float = setting(4.0, min=0.0, min_exclusive=True, doc="softmax temperature T")
    alpha: float = setting(0.1, min=0.0, max=1.0, doc="weight of the cross-entropy on labels; "
                           "1 - alpha weighs the distillation term")
    teacher_mode: str = setting("online", choices=("online", "cached", "clean_view"),
                                doc="online: the teacher sees the student's augmented batch; cached: "
                                "its logits on clean images, computed once; clean_view: it sees the "
                                "clean image, each step")
    unlabeled: bool = setting(False, doc="distill on the unlabeled pool too (data.labeled_per_class)")


def default_strong_augment():
    return [AugmentSpec("randaugment", {"num_ops": 2, "magnitude": 10.0}),
            AugmentSpec("erasing", {"probability": 1.0})]


@dataclasses.dataclass
class PseudoLabelConfig:
    """Settings of the `pseudo_label` learner (kvision/semi/pseudo_label.py)."""

    variant: str = setting("fixmatch", choices=("lee2013", "threshold", "fixmatch"),
                           doc="lee2013 (all argmax labels, ramped weight), threshold (confident "
                           "ones), fixmatch (weak-view labels, strong-view loss)")
    confidence_threshold: float = setting(0.95, min=0.0, max=1.0, doc="minimum top probability of a "
                                          "kept pseudo-label (threshold, fixmatch)")
    unlabeled_weight: float = setting(1.0, min=0.0, doc="weight of the unlabeled loss after the ramp "
                                      "(Lee 2013: 3)")
    rampup_start: int = setting(0, min=0, doc="step at which the unlabeled weight starts rising from 0")
    rampup_steps: int = setting(0, min=0, doc="steps over which it rises (0: at once)")
    unlabeled_ratio: int = setting(7, min=1, doc="unlabeled images per labeled image in a step "
                                   "(FixMatch: 7)")
    strong_augment: list[AugmentSpec] = setting(default_factory=default_strong_augment,
                                                doc="fixmatch: the strong view's augmentations")
    label_view: str = setting("same", choices=("same", "clean"), doc="lee2013, threshold: labels from "
                              "the trained view in training mode (same, Lee 2013) or from the "
                              "un-augmented image in inference mode (clean)")


@dataclasses.dataclass
class StudentConfig:
    """Settings of the `student` learner: one Noisy Student iteration (kvision/semi/student.py)."""

    teacher: Optional[str] = setting(None, doc="the teacher: stage:NAME, a run folder or a .keras file")
    labels: str = setting("soft", choices=("soft", "hard"), doc="the teacher's probabilities, or its "
                          "argmax")
    confidence_threshold: float = setting(0.0, min=0.0, max=1.0, doc="drop pool images whose top "
                                          "probability is lower")
    balance: bool = setting(True, doc="equal pseudo-labeled counts per class (trim or repeat)")
    pseudo_ratio: int = setting(3, min=1, doc="pseudo-labeled images per labeled image in a batch")


@dataclasses.dataclass
class NoisyStudentConfig:
    """Settings of the `noisy_student` learner, which expands into stages (kvision/semi/noisy_student.py)."""

    iterations: int = setting(2, min=1, doc="students trained one after another, each the next "
                              "one's teacher")
    students: list[dict] = setting(default_factory=list, doc="model sections of the students, one per "
                                   "iteration (the last repeats); empty: the recipe's model")
    labels: str = setting("soft", choices=("soft", "hard"), doc="soft or hard pseudo-labels")
    confidence_threshold: float = setting(0.0, min=0.0, max=1.0, doc="drop pool images whose top "
                                          "probability is lower")
    balance: bool = setting(True, doc="equal pseudo-labeled counts per class")
    pseudo_ratio: int = setting(3, min=1, doc="pseudo-labeled images per labeled image in a batch")
    noise_augment: Optional[list[AugmentSpec]] = setting(None, doc="the students' augmentation (the "
                                                         "input noise); null: the recipe's augment")
    student_train: dict = setting(default_factory=dict, doc="train keys the students use instead of "
                                  "the teacher's (epochs, steps_per_epoch, optimizer, ...)")


@dataclasses.dataclass
class TrainConfig:
    """How to train."""

    learner: str = setting("classify", registry=LEARNERS, doc="registered learner")
    epochs: int = setting(5, min=1, doc="passes over the training data")
    steps_per_epoch: Optional[int] = setting(None, min=1, doc="limit steps per epoch "
                                             "(null: the whole training split)")
    optimizer: OptimizerConfig = setting(default_factory=OptimizerConfig, doc="optimizer")
    schedule: ScheduleConfig = setting(default_factory=ScheduleConfig, doc="learning-rate schedule")
    label_smoothing: float = setting(0.0, min=0.0, max=1.0, max_exclusive=True,
                                     doc="label smoothing of the cross-entropy")
    transfer: TransferConfig = setting(default_factory=TransferConfig, doc="the transfer learner's "
                                       "settings")
    distill: DistillConfig = setting(default_factory=DistillConfig, doc="the distill learner's "
                                     "settings")
    pseudo_label: PseudoLabelConfig = setting(default_factory=PseudoLabelConfig,
                                              doc="the pseudo_label learner's settings")
    student: StudentConfig = setting(default_factory=StudentConfig, doc="the student learner's "
                                     "settings")
    noisy_student: NoisyStudentConfig = setting(default_factory=NoisyStudentConfig,
                                                doc="the noisy_student learner's settings")
    jit_compile: Optional[bool] = setting(None, doc="compile the train step (XLA, jax.jit, "
                                          "torch.compile); unset: on for JAX, where off runs op by "
                                          "op, off for TensorFlow and torch (see resolve_jit_compile)")
    verbose: int = setting(1, choices=(0, 1, 2), doc="0 silent, 1 progress bar, 2 a line per epoch")


@dataclasses.dataclass
class RuntimeConfig:
    """How a run executes: devices, checkpointing and numeric precision."""

    checkpoint_every_steps: Optional[int] = setting(None, min=1, doc="save the training state every "
                                                    "N steps as well as at each epoch end")
    strategy: str = setting("auto", choices=("auto", "one_device", "mirrored", "multi_worker_mirrored",
                                             "tpu"), doc="where to run (kvision/runtime/strategy.py)")
    lr_scaling: str = setting("none", choices=("none", "linear"), doc="linear: batch_size is per "
                              "replica and the learning rate is multiplied by the replicas")
    mixed_precision: str = setting("float32", choices=("float32", "mixed_float16", "mixed_bfloat16"),
                                   doc="Keras dtype policy; logits stay float32")


@dataclasses.dataclass
class ExportConfig:
    """Exports written into the run folder's export/ at the end of training."""

    formats: list[str] = setting(default_factory=list, doc="any of saved_model, keras, onnx")

    def __post_init__(self):
        for i, fmt in enumerate(self.formats):
            if fmt not in ("saved_model", "keras", "onnx"):
                raise RecipeError("unknown export format", f"export.formats.{i}", fmt,
                                  "saved_model, keras, onnx")


@dataclasses.dataclass
class EvalConfig:
    """What to report after training."""

    split: str = setting("test", choices=("test", "validation"), doc="split to evaluate on")


@dataclasses.dataclass
class Recipe:
    """A whole experiment."""

    name: str = setting("run", doc="run name; the run folder is output_dir/name")
    seed: int = setting(0, min=0, doc="seed for splits, shuffling, augmentation and weights")
    imports: list[str] = setting(default_factory=list, doc="user modules that register "
                                 "components (the only way a recipe loads code)")
    output_dir: str = setting("runs", doc="parent folder of run folders")
    data: DataConfig = setting(default_factory=DataConfig, doc="data")
    augment: list[AugmentSpec] = setting(default_factory=list, doc="augmentations, in order")
    model: ModelConfig = setting(default_factory=ModelConfig, doc="model")
    train: TrainConfig = setting(default_factory=TrainConfig, doc="training")
    eval: EvalConfig = setting(default_factory=EvalConfig, doc="evaluation")
    runtime: RuntimeConfig = setting(default_factory=RuntimeConfig, doc="devices, checkpointing, "
                                     "precision")
    backend: Optional[str] = setting(None, choices=("tensorflow", "jax", "torch"), doc="the Keras "
                                     "backend (the CLI sets KERAS_BACKEND before importing Keras); "
                                     "null: KERAS_BACKEND or Keras' default")
    export: ExportConfig = setting(default_factory=ExportConfig, doc="exports for serving")
    stages: list[dict] = setting(default_factory=list, doc="stages run in order, each a partial "
                                 "recipe merged over this one (kvision/recipes/stages.py)")
    upstream: dict = setting(default_factory=dict, doc="set by kvision in a stage's recipe.yaml: "
                             "fingerprints of the stages before it")
