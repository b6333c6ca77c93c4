"""Inference of a DRAI model: encode-and-regenerate (the image-to-image path a DRAI bundle serves) and sampling
images from the priors (per class, and the content x style grid)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from monai.data import MetaTensor
from monai.inferers import Inferer
from torch import nn

from monai_xrgan.networks.drai import DRAIGenerator
from monai_xrgan.utils.errors import MissingInputError
from monai_xrgan.utils.weights import load_network_weights

__all__ = ["DRAIReconstructionInferer", "content_style_grid", "generate_images"]


class DRAIReconstructionInferer(Inferer):
    """Encode, then regenerate: ``network(E.code(x))``, the image-to-image path of a DRAI bundle.

    The network the inferer is given is the generator (the bundle's ``network_def``, loaded from ``models/model.pt``
    by whoever runs it: a ``CheckpointLoader``, MONAI Label); the encoder is the inferer's own, its weights read
    (``weights_only``) from ``encoder_path`` at the first call and again whenever the file changes, so that building
    the inferer touches no file. The condition of the code is the encoder's predicted class, so the output is the
    model's reconstruction of the input: same finding, same style, as far as the model captured them.

    Args:
        encoder: a :class:`~monai_xrgan.networks.drai.DRAIEncoder` with the generator's latent layout.
        encoder_path: its weights (``models/encoder.pt`` of a trained bundle).
    """

    def __init__(self, encoder: nn.Module, encoder_path: str | os.PathLike) -> None:
        super().__init__()
        self.encoder = encoder
        self.encoder_path = Path(encoder_path)
        self._loaded: tuple[float, torch.device] | None = None

    def _encoder_on(self, device: torch.device) -> nn.Module:
        if not self.encoder_path.is_file():
            raise MissingInputError(
                f"{self.encoder_path}: not found (config `encoder_ckpt_path`); train the bundle first "
                "(configs/train.json writes models/encoder.pt beside models/model.pt)."
            )
        key = (self.encoder_path.stat().st_mtime, device)
        if self._loaded != key:
            load_network_weights(self.encoder, self.encoder_path, name="encoder")
            self.encoder.to(device).eval()
            self._loaded = key
        return self.encoder

    def __call__(self, inputs: torch.Tensor, network: nn.Module, *args: Any, **kwargs: Any) -> torch.Tensor:
        """Reconstructions ``(B, C, X, Y)`` of ``inputs`` in the model range by the generator ``network``."""
        images = inputs.as_tensor() if isinstance(inputs, MetaTensor) else inputs
        output = network(self._encoder_on(images.device).code(images), *args, **kwargs)
        if isinstance(inputs, MetaTensor):  # as an image-to-image network's output: the input's metadata, for Invertd
            output = MetaTensor(output).copy_meta_from(inputs)
        return output


def _device(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


@torch.no_grad()
def generate_images(
    generator: DRAIGenerator, labels: torch.Tensor, seed: int = 0, batch_size: int = 64
) -> torch.Tensor:
    """Images (on the CPU) of the classes ``labels`` from ``generator`` in eval mode, content and style drawn from
    the priors by a CPU random generator seeded with ``seed`` (the same seed gives the same codes on any device)."""
    codes = generator.layout.sample(torch.as_tensor(labels).cpu(), torch.Generator().manual_seed(int(seed)))
    generator.eval()
    device = _device(generator)
    return torch.cat([generator(chunk.to(device)).float().cpu() for chunk in codes.split(batch_size)])


@torch.no_grad()
def content_style_grid(generator: DRAIGenerator, num_rows: int, num_columns: int, seed: int = 0) -> torch.Tensor:
    """Images ``(num_rows, num_columns, C, X, Y)`` (CPU) where row ``i`` keeps one content and column ``j`` one style.

    Contents are the condition (classes in turn: row ``i`` has class ``i mod num_classes``) with a content code
    ``z_c``, styles are style codes ``z_s``, all drawn from the priors with ``seed``. With one latent the content is
    the condition alone and the style is the one latent ``z``.
    """
    layout = generator.layout
    rng = torch.Generator().manual_seed(int(seed))
    contents = layout.sample(torch.arange(num_rows) % layout.num_classes, rng)
    styles = layout.sample(torch.zeros(num_columns, dtype=torch.long), rng)
    split = layout.num_classes + (layout.content_dim if layout.style_dim > 0 else 0)
    codes = torch.cat(
        [contents[:, None, :split].expand(-1, num_columns, -1), styles[None, :, split:].expand(num_rows, -1, -1)], dim=2
    )
    generator.eval()
    images = generator(codes.view(num_rows * num_columns, -1).to(_device(generator))).float().cpu()
    return images.view(num_rows, num_columns, *images.shape[1:])
