"""Batch-level random style changes of radiographs on the GPU (DRAI's transformation-consistency regulariser)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from monai_xrgan.utils.errors import ConfigError

__all__ = ["RandomStyleTransform"]


class RandomStyleTransform(nn.Module):
    """Change the style of a batch of radiographs at random, on the batch's device, one draw per image.

    Acquisition and pose, the style factors of a radiograph, are varied in this order: an affine map (rotation,
    isotropic scale, translation; border padding), a gamma on ``[0, 1]`` intensities (exposure and contrast), a
    Gaussian blur and additive Gaussian noise; the result is clipped to ``value_range``. The finding (the content)
    is untouched, which the trainer's transformation-consistency regulariser uses. Vectorised over the batch (the
    per-image MONAI ``Rand*d`` transforms cost more than a training step at 64²); draws use the global torch seed.

    Args:
        rotate: largest rotation in radians.
        translate: largest shift, a fraction of the image's half-width.
        scale: largest relative change of scale.
        gamma: ``(low, high)`` range of the gamma, drawn log-uniformly.
        blur_sigma: largest blur standard deviation in pixels (0: no blur).
        noise_std: largest noise standard deviation, in units of ``value_range``.
        value_range: intensity range of the images.
    """

    def __init__(
        self,
        rotate: float = 0.14,
        translate: float = 0.08,
        scale: float = 0.05,
        gamma: Sequence[float] = (0.7, 1.5),
        blur_sigma: float = 1.0,
        noise_std: float = 0.1,
        value_range: Sequence[float] = (-1.0, 1.0),
    ) -> None:
        super().__init__()
        if min(rotate, translate, scale, blur_sigma, noise_std) < 0 or not 0 < gamma[0] <= gamma[1]:
            raise ConfigError(
                "RandomStyleTransform: ranges must be >= 0 and gamma a (low, high) pair with 0 < low <= high, "
                f"got rotate={rotate}, translate={translate}, scale={scale}, gamma={gamma}, "
                f"blur_sigma={blur_sigma}, noise_std={noise_std}."
            )
        self.rotate, self.translate, self.scale = float(rotate), float(translate), float(scale)
        self.log_gamma = (math.log(gamma[0]), math.log(gamma[1]))
        self.blur_sigma, self.noise_std = float(blur_sigma), float(noise_std)
        self.low, self.high = float(value_range[0]), float(value_range[1])

    def _uniform(self, n: int, low: float, high: float, like: torch.Tensor) -> torch.Tensor:
        return torch.rand(n, device=like.device, dtype=like.dtype) * (high - low) + low

    def _blur(self, x: torch.Tensor) -> torch.Tensor:
        radius = math.ceil(3 * self.blur_sigma)
        sigma = self._uniform(len(x), 1e-3, self.blur_sigma, x)[:, None]
        taps = torch.exp(-0.5 * (torch.arange(-radius, radius + 1, device=x.device, dtype=x.dtype) / sigma) ** 2)
        # (B, 2r + 1): one kernel per image, applied as grouped convolutions
        taps = taps / taps.sum(dim=1, keepdim=True)
        b, c, h, w = x.shape
        y = F.pad(x.reshape(1, b * c, h, w), (radius, radius, radius, radius), mode="replicate")
        kernel = taps.repeat_interleave(c, dim=0)[:, None]
        y = F.conv2d(y, kernel[:, :, :, None], groups=b * c)
        y = F.conv2d(y, kernel[:, :, None, :], groups=b * c)
        return y.reshape(b, c, h, w)

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = len(x)
        angle = self._uniform(n, -self.rotate, self.rotate, x)
        zoom = self._uniform(n, 1 - self.scale, 1 + self.scale, x)
        shift = torch.stack([self._uniform(n, -self.translate, self.translate, x) for _ in range(2)], dim=1)
        rotation = torch.stack([torch.cos(angle), -torch.sin(angle), torch.sin(angle), torch.cos(angle)], 1).view(
            n, 2, 2
        )
        theta = torch.cat([rotation * zoom[:, None, None], shift[:, :, None]], dim=2)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        y = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
        unit = ((y - self.low) / (self.high - self.low)).clamp(0, 1)
        unit = unit ** torch.exp(self._uniform(n, *self.log_gamma, x)).view(n, 1, 1, 1)
        y = unit * (self.high - self.low) + self.low
        if self.blur_sigma > 0:
            y = self._blur(y)
        y = y + self._uniform(n, 0, self.noise_std, x).view(n, 1, 1, 1) * torch.randn_like(y)
        return y.clamp(self.low, self.high)
