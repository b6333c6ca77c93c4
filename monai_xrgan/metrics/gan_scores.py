"""GAN-train and GAN-test accuracies of a class-conditional generator (Shmelkov et al., "How good is my GAN?",
ECCV 2018).

* GAN-train: a classifier trained on generated images only (labelled with the class they were generated for) and
  tested on real images. High when the generated images are realistic and diverse enough to learn the classes.
* GAN-test: the same classifier (architecture, schedule, seed) trained on real images and tested on generated
  images. High when the generated images look like their class.

The classifier is :func:`monai_xrgan.workflows.train_classifier` (a ResNet trained from scratch), so that every
bundle scores its generator with the same recipe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from monai_xrgan.metrics.classification import resolve_class_names
from monai_xrgan.workflows.classifier import evaluate_classifier, train_classifier

__all__ = ["gan_train_test"]


def gan_train_test(
    real_train: Sequence[Mapping[str, Any]],
    generated_train: Sequence[Mapping[str, Any]],
    real_test: Sequence[Mapping[str, Any]],
    generated_test: Sequence[Mapping[str, Any]],
    class_names: Sequence[str],
    **train_kwargs: Any,
) -> dict[str, Any]:
    """GAN-train and GAN-test accuracies, plus the real-to-real accuracy they should be read against.

    Two classifiers with the same settings and seed: one trained on ``generated_train`` and tested on ``real_test``
    (GAN-train), one trained on ``real_train`` and tested on ``generated_test`` (GAN-test) and on ``real_test``
    (``real_accuracy``, the upper reference of GAN-train). Generated images are labelled with their target class;
    keep the two generated sets apart from each other's sources (e.g. translations of the real training and of the
    real test images), so that no test content was seen in training.

    Args:
        real_train, generated_train, real_test, generated_test: ``[{"image": path or tensor, "label": index}, ...]``.
        class_names: one name per class.
        train_kwargs: settings of :func:`~monai_xrgan.workflows.train_classifier` (``arch``, ``image_size``,
            ``epochs``, ``seed``, ``preprocessing``, ``device``, ...); ``image_size``, ``device``, ``num_workers``
            and ``preprocessing`` are also used for testing.

    Returns:
        ``{"gan_train", "gan_test", "real_accuracy"}`` accuracies and the three classification ``reports``.
    """
    names = resolve_class_names(len(class_names), class_names)
    shared = ("image_size", "device", "num_workers", "preprocessing")
    test_settings = {k: train_kwargs[k] for k in shared if k in train_kwargs}

    def scores(model: Any, items: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        return evaluate_classifier(model, items, len(names), names, **test_settings)

    on_generated = train_classifier(generated_train, len(names), **train_kwargs)
    reports = {"gan_train": scores(on_generated, real_test)}
    del on_generated
    on_real = train_classifier(real_train, len(names), **train_kwargs)
    reports.update(gan_test=scores(on_real, generated_test), real_accuracy=scores(on_real, real_test))
    return {**{name: report["accuracy"] for name, report in reports.items()}, "reports": reports}
