"""Disentanglement of a content and a style code, measured with linear probes against known factors.

A content code should predict the class (the condition) and not the style factors; a style code the reverse.
:func:`disentanglement_report` fits linear probes on codes of training images and scores them on held-out images:

* class information of a code: accuracy of a multinomial logistic-regression probe, rescaled so that the
  majority-class rate is 0 and perfect accuracy 1 (clipped to ``[0, 1]``);
* style information: R² of a ridge-regression probe per style factor, clipped to ``[0, 1]``, averaged over factors;
* ``disentanglement_class`` = class information of the content part - that of the style part,
  ``disentanglement_style`` = style information of the style part - that of the content part, and
  ``disentanglement`` = their mean; higher is better, 1 is perfect, 0 means no separation.

Every model is scored the same way: its whole code ``[z_c, z_s]`` is cut at ``content_dim`` into a content part and a
style part of fixed sizes, so a one-latent model (one code ``z``, no ``z_s``) is scored on the same split of a code
of the same size as a two-latent model, and the two get the same score when their codes are the same. An empty part
is refused: it would score 0 class and 0 style information by construction and cap the score at 0.5. The codes are
the encoder's latents only, never its supervised class logits (a probe on those measures the classifier).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from monai_xrgan.utils.errors import ConfigError

__all__ = ["stack_batches", "encode_images", "probe_accuracy", "probe_r2", "split_code", "disentanglement_report"]


def stack_batches(
    data_loader: Iterable[dict[str, Any]], keys: Sequence[str] = ("image", "label", "style")
) -> dict[str, torch.Tensor]:
    """Concatenate the ``keys`` of every batch of ``data_loader`` into CPU tensors (lists of per-value tensors, what
    collation makes of a list such as ``style``, are stacked along dimension 1)."""
    parts: dict[str, list[torch.Tensor]] = {k: [] for k in keys}
    for batch in data_loader:
        for key in keys:
            if key not in batch:
                raise ConfigError(f"batches have no '{key}'; available: {sorted(batch)} (the datalist items need it).")
            value = batch[key]
            value = (
                torch.stack([torch.as_tensor(v) for v in value], dim=1) if isinstance(value, (list, tuple)) else value
            )
            parts[key].append(torch.as_tensor(value).as_subclass(torch.Tensor).detach().cpu())  # MetaTensor -> Tensor
    if not parts[keys[0]]:
        raise ConfigError("the data loader is empty; give at least one image.")
    return {k: torch.cat(v) for k, v in parts.items()}


@torch.no_grad()
def encode_images(
    encoder: nn.Module, images: torch.Tensor, batch_size: int = 64
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(class logits, content, style)`` of ``images`` from ``encoder`` in eval mode, on the encoder's device,
    returned on the CPU."""
    encoder.eval()
    device = next(encoder.parameters()).device
    outputs = [encoder(chunk.to(device)) for chunk in images.split(batch_size)]
    return tuple(torch.cat([o[i] for o in outputs]).float().cpu() for i in range(3))  # type: ignore[return-value]


def _standardise(train: torch.Tensor, test: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mean, std = train.mean(0), train.std(0, unbiased=False).clamp(min=1e-8)
    return (train - mean) / std, (test - mean) / std


def probe_accuracy(
    train_codes: torch.Tensor,
    train_labels: torch.Tensor,
    test_codes: torch.Tensor,
    test_labels: torch.Tensor,
    num_classes: int,
    weight_decay: float = 1e-3,
    max_iter: int = 200,
) -> float:
    """Test accuracy of a multinomial logistic-regression probe fitted on standardised training codes (L-BFGS,
    L2 penalty ``weight_decay`` on the weights; deterministic)."""
    x_train, x_test = _standardise(train_codes.double(), test_codes.double())
    y_train = train_labels.long().view(-1)
    weight = torch.zeros(x_train.shape[1], num_classes, dtype=torch.float64, requires_grad=True)
    bias = torch.zeros(num_classes, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], lr=1.0, max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(x_train @ weight + bias, y_train) + weight_decay * weight.square().sum()
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(closure)
    with torch.no_grad():
        predicted = (x_test @ weight + bias).argmax(dim=1)
    return float((predicted == test_labels.long().view(-1)).double().mean())


def probe_r2(
    train_codes: torch.Tensor,
    train_factors: torch.Tensor,
    test_codes: torch.Tensor,
    test_factors: torch.Tensor,
    ridge: float = 1.0,
) -> np.ndarray:
    """Per-factor test R² of a ridge-regression probe (closed form, penalty ``ridge`` on standardised codes)."""
    x_train, x_test = _standardise(train_codes.double(), test_codes.double())
    t_train = train_factors.double()
    mean = t_train.mean(0)
    gram = x_train.T @ x_train + ridge * torch.eye(x_train.shape[1], dtype=torch.float64)
    weight = torch.linalg.solve(gram, x_train.T @ (t_train - mean))
    residual = test_factors.double() - (x_test @ weight + mean)
    total = (test_factors.double() - test_factors.double().mean(0)).square().sum(0)
    return (1.0 - residual.square().sum(0) / total.clamp(min=1e-12)).numpy()


def split_code(content: torch.Tensor, style: torch.Tensor, content_dim: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The code ``[content, style]`` ``(N, Dc + Ds)`` cut into its first ``content_dim`` values and the rest.

    A two-latent code with ``content_dim = Dc`` is returned as it is; a one-latent code (``Ds = 0``) is cut into parts
    of the two-latent sizes.
    """
    code = torch.cat([content, style], dim=1)
    if isinstance(content_dim, bool) or not isinstance(content_dim, int) or not 0 < content_dim < code.shape[1]:
        raise ConfigError(
            f"content_dim must be an integer in [1, {code.shape[1] - 1}] to cut a code of {code.shape[1]} values into "
            f"a content and a style part, got {content_dim!r} (config `content_dim`)."
        )
    return code[:, :content_dim], code[:, content_dim:]


def _cut(codes: dict[str, torch.Tensor], content_dim: int) -> dict[str, torch.Tensor]:
    content, style = split_code(codes["content"], codes["style"], content_dim)
    return {**codes, "content": content, "style": style}


def disentanglement_report(
    train: dict[str, torch.Tensor],
    test: dict[str, torch.Tensor],
    num_classes: int,
    factor_names: Sequence[str] | None = None,
    content_dim: int | None = None,
) -> dict[str, Any]:
    """The disentanglement score of the module docstring, with its parts.

    Args:
        train, test: ``{"content": (N, Dc), "style": (N, Ds), "label": (N,), "factors": (N, F)}``; probes are fitted
            on ``train`` and scored on ``test``.
        num_classes: number of classes.
        factor_names: names of the ``F`` style factors (default ``factor_0``, ...).
        content_dim: cut every code ``[content, style]`` at this size (:func:`split_code`) before scoring; ``None``
            scores the parts as given (both must be non-empty).

    Returns:
        ``disentanglement``, ``disentanglement_class``, ``disentanglement_style``, ``code_sizes`` (content and style
        part), ``class_accuracy`` and ``class_information`` of each part, ``style_r2`` (mean clipped R²) of each
        part, ``style_r2_per_factor`` and ``majority_rate``.
    """
    for name, part in (("train", train), ("test", test)):
        missing = [k for k in ("content", "style", "label", "factors") if k not in part]
        if missing:
            raise ConfigError(f"disentanglement_report: `{name}` has no {missing}.")
    if content_dim is not None:
        train, test = _cut(train, content_dim), _cut(test, content_dim)
    sizes = {code: int(train[code].shape[1]) for code in ("content", "style")}
    empty = [code for code, size in sizes.items() if size == 0]
    if empty:
        raise ConfigError(
            f"disentanglement_report: the {empty[0]} code is empty (a one-latent model?); give `content_dim` to score "
            "a fixed split of the code, as for a two-latent model."
        )
    num_factors = train["factors"].shape[1]
    names = list(factor_names) if factor_names is not None else [f"factor_{i}" for i in range(num_factors)]
    if len(names) != num_factors or test["factors"].shape[1] != num_factors:
        raise ConfigError(
            f"style factors: {num_factors} in train, {test['factors'].shape[1]} in test, "
            f"{len(names)} names; they must agree (datalist `style` lists and `style_factors`)."
        )
    labels = test["label"].long().view(-1)
    majority = float(torch.bincount(labels, minlength=num_classes).max()) / len(labels)
    report: dict[str, Any] = {
        "code_sizes": sizes,
        "majority_rate": majority,
        "class_accuracy": {},
        "class_information": {},
        "style_r2": {},
        "style_r2_per_factor": {},
    }
    for code in ("content", "style"):
        accuracy = probe_accuracy(train[code], train["label"], test[code], test["label"], num_classes)
        r2 = np.clip(probe_r2(train[code], train["factors"], test[code], test["factors"]), 0.0, 1.0)
        report["class_accuracy"][code] = accuracy
        report["class_information"][code] = float(np.clip((accuracy - majority) / max(1.0 - majority, 1e-12), 0.0, 1.0))
        report["style_r2"][code] = float(r2.mean())
        report["style_r2_per_factor"][code] = dict(zip(names, map(float, r2)))
    report["disentanglement_class"] = report["class_information"]["content"] - report["class_information"]["style"]
    report["disentanglement_style"] = report["style_r2"]["style"] - report["style_r2"]["content"]
    report["disentanglement"] = 0.5 * (report["disentanglement_class"] + report["disentanglement_style"])
    return report
