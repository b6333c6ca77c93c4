"""Encode-and-regenerate inference of a DRAI model: the image-to-image path a DRAI bundle serves."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from monai.data import MetaTensor
from monai.inferers import Inferer
from torch import nn

from monai_xrgan.utils.errors import MissingInputError
from monai_xrgan.utils.weights import load_network_weights

__all__ = ["DRAIReconstructionInferer"]


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
