"""Learning-rate schedules of the reference GAN implementations."""

from __future__ import annotations

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler

__all__ = ["LinearDecayLR"]


class LinearDecayLR(LRScheduler):
    """Constant rate for ``constant_epochs`` epochs, then linear decay towards zero over ``decay_epochs`` epochs.

    The pix2pix/CycleGAN ``linear`` policy (also R2C-GAN's): after epoch index ``e`` (0-based, stepped once per
    epoch) the rate is ``base_lr * (1 - max(0, e + 1 - constant_epochs) / (decay_epochs + 1))``.

    Args:
        optimizer: the optimiser whose rates are scheduled.
        constant_epochs: epochs at the base rate (``n_epochs`` in the reference).
        decay_epochs: epochs of linear decay (``n_epochs_decay``).
        last_epoch: index of the last epoch when resuming (-1 to start).
    """

    def __init__(self, optimizer: Optimizer, constant_epochs: int, decay_epochs: int, last_epoch: int = -1) -> None:
        if constant_epochs < 0 or decay_epochs < 0:
            raise ValueError(f"epochs must be >= 0, got constant={constant_epochs}, decay={decay_epochs}.")
        self.constant_epochs = constant_epochs
        self.decay_epochs = decay_epochs
        super().__init__(optimizer, last_epoch)

    def factor(self, epoch: int) -> float:
        """Multiplier of the base rate for epoch index ``epoch``."""
        return max(0.0, 1.0 - max(0, epoch + 1 - self.constant_epochs) / float(self.decay_epochs + 1))

    def get_lr(self) -> list[float]:  # type: ignore[override]
        return [base_lr * self.factor(self.last_epoch) for base_lr in self.base_lrs]
