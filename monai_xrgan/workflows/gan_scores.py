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

__all__ = ["classifier_reports", "gan_train_test"]

#: :func:`train_classifier` settings that testing uses too
_SHARED = ("image_size", "device", "num_workers", "preprocessing")


def classifier_reports(
    train_items: Sequence[Mapping[str, Any]],
    test_sets: Mapping[str, Sequence[Mapping[str, Any]]],
    class_names: Sequence[str],
    positive_class: int | str | None = None,
    **train_kwargs: Any,
) -> dict[str, dict[str, Any]]:
    """Train one classifier on ``train_items`` and return its classification report on each of ``test_sets``
    (``{name: items}`` -> ``{name: report}``), testing with the training's ``image_size``, ``device``,
    ``num_workers`` and ``preprocessing``."""
    names = resolve_class_names(len(class_names), class_names)
    test_settings = {k: train_kwargs[k] for k in _SHARED if k in train_kwargs}
    model = train_classifier(train_items, len(names), **train_kwargs)
    return {
        name: evaluate_classifier(model, items, len(names), names, positive_class=positive_class, **test_settings)
        for name, items in test_sets.items()
    }


def gan_train_test(
    real_train: Sequence[Mapping[str, Any]],
    generated_train: Sequence[Mapping[str, Any]],
    real_test: Sequence[Mapping[str, Any]],
    generated_test: Sequence[Mapping[str, Any]],
    class_names: Sequence[str],
    positive_class: int | str | None = None,
    **train_kwargs: Any,
) -> dict[str, Any]:
    """GAN-train and GAN-test accuracies, plus the real-to-real accuracy they should be read against.

    Two classifiers with the same settings and seed (:func:`classifier_reports`): one trained on ``generated_train``
    and tested on ``real_test`` (GAN-train), one trained on ``real_train`` and tested on ``generated_test``
    (GAN-test) and on ``real_test`` (``real_accuracy``, the upper reference of GAN-train). Generated images are
    labelled with their target class; keep the two generated sets apart from each other's sources (e.g.
    translations of the real training and of the real test images), so that no test content was seen in training.
    For an image-to-image translator, translate every source image into every class, its own included: a
    translator that returns its input then scores chance on both (on GAN-test exactly ``1 / num_classes``), the
    floor its scores are read against; without the source class it would score below chance and any change of the
    image would look like progress.

    Args:
        real_train, generated_train, real_test, generated_test: ``[{"image": path or tensor, "label": index}, ...]``.
        class_names: one name per class.
        positive_class: class (index or name) also reported at the top level of every report (e.g. the scarce
            class, whose sensitivity and AUC the real-to-real report then gives).
        train_kwargs: settings of :func:`~monai_xrgan.workflows.train_classifier` (``arch``, ``image_size``,
            ``epochs``, ``seed``, ``preprocessing``, ``device``, ...); ``image_size``, ``device``, ``num_workers``
            and ``preprocessing`` are also used for testing.

    Returns:
        ``{"gan_train", "gan_test", "real_accuracy"}`` accuracies and the three classification ``reports``.
    """
    resolve_class_names(len(class_names), class_names)
    reports = classifier_reports(generated_train, {"gan_train": real_test}, class_names, positive_class, **train_kwargs)
    reports.update(
        classifier_reports(
            real_train,
            {"gan_test": generated_test, "real_accuracy": real_test},
            class_names,
            positive_class,
            **train_kwargs,
        )
    )
    return {**{name: report["accuracy"] for name, report in reports.items()}, "reports": reports}
