"""Multi-step experiments built on the package: classifiers trained on real vs real + synthetic images."""

from monai_xrgan.workflows.augmentation import (
    balancing_sources,
    class_count_record,
    compare_real_vs_augmented,
    compare_training_sets,
    generate_labelled,
    oversample,
    relabel,
    results_table,
    steps_per_epoch_of_largest,
)
from monai_xrgan.workflows.classifier import (
    EpochMetricHistory,
    build_classifier,
    check_labelled_items,
    class_counts,
    class_weights,
    classifier_transforms,
    evaluate_classifier,
    train_classifier,
)
from monai_xrgan.workflows.lq_pairs import require_lq_pairs, write_lq_pairs

__all__ = [
    "balancing_sources",
    "class_count_record",
    "EpochMetricHistory",
    "build_classifier",
    "check_labelled_items",
    "class_counts",
    "class_weights",
    "classifier_transforms",
    "compare_real_vs_augmented",
    "compare_training_sets",
    "evaluate_classifier",
    "generate_labelled",
    "oversample",
    "relabel",
    "require_lq_pairs",
    "results_table",
    "steps_per_epoch_of_largest",
    "train_classifier",
    "write_lq_pairs",
]
