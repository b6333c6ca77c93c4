"""History pool of generated images (Shrivastava et al. 2017), fed to the discriminators of CycleGAN and R2C-GAN."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from monai_xrgan.utils.checks import require_count

__all__ = ["ImagePool"]


class ImagePool:
    """Keep up to ``pool_size`` generated images and hand the discriminator a mix of new and older ones.

    For each image of a batch: while the pool is not full, the image is stored and returned; afterwards, with
    probability 0.5 a random stored image is returned and replaced by the new one, otherwise the new image is returned
    (the reference's ``ItemPool``). Random draws use torch's global generator (seeded by
    :func:`monai.utils.set_determinism`). ``state_dict``/``load_state_dict`` let checkpoints carry the pool.

    Args:
        pool_size: number of images kept; 0 disables the pool (batches pass through).
    """

    def __init__(self, pool_size: int = 50) -> None:
        self.pool_size = require_count(pool_size, "pool_size")
        self.images: list[torch.Tensor] = []

    def __len__(self) -> int:
        return len(self.images)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        """Return a batch like ``images`` (detached), drawn from ``images`` and the pool."""
        images = images.detach()
        if self.pool_size == 0:
            return images
        out = []
        for image in images:  # one decision per image of the (small) batch
            if len(self.images) < self.pool_size:
                self.images.append(image)
                out.append(image)
            elif torch.rand(()) < 0.5:
                index = int(torch.randint(len(self.images), ()))
                out.append(self.images[index])
                self.images[index] = image
            else:
                out.append(image)
        return torch.stack(out)

    def state_dict(self) -> dict[str, Any]:
        return {"images": torch.stack(self.images) if self.images else torch.empty(0)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        stored = state["images"]
        self.images = list(stored.unbind(0)) if stored.numel() else []
