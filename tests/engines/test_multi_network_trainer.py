"""The template method of MultiNetworkTrainer: one train_step per iteration, MONAI's iteration events, postprocessing
and decollation as in SupervisedTrainer, None schedulers dropped."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from monai.engines import IterationEvents
from torch.utils.data import DataLoader, DistributedSampler

from monai_xrgan.engines import CyclingLoader, MultiNetworkTrainer
from monai_xrgan.utils.errors import ConfigError


class _TinyTrainer(MultiNetworkTrainer):
    """One linear layer regressed on its input."""

    def __init__(self, **kwargs: Any) -> None:
        net = torch.nn.Linear(2, 2)
        data = DataLoader([{"image": torch.rand(2)} for _ in range(6)], batch_size=2)
        optimizer = torch.optim.SGD(net.parameters(), 0.1)
        super().__init__("cpu", 2, data, {"net": net}, {"net": optimizer}, **kwargs)
        self.steps = 0

    def train_step(self, batch: dict[str, torch.Tensor]) -> dict[str, Any]:
        self.steps += 1
        assert all(m.training for m in self.raw_networks.values())
        x = batch["image"]
        with self.autocast():
            pred = self.networks["net"](x)
        loss = (pred - x).square().mean()
        self.optimize(loss, "net")
        return {"image": x, "pred": pred.detach(), "loss": loss.detach()}


def test_postprocessing_runs_once_per_iteration_on_the_step_output():
    seen = []
    trainer = _TinyTrainer(postprocessing=lambda output: seen.append(sorted(output)) or output)
    trainer.run()
    assert trainer.state.iteration == trainer.steps == 6
    assert seen == [["image", "loss", "pred"]] * 6
    assert set(trainer.state.output) == {"image", "loss", "pred"}


STEP_EVENTS = [
    IterationEvents.FORWARD_COMPLETED,
    IterationEvents.LOSS_COMPLETED,
    IterationEvents.BACKWARD_COMPLETED,
    IterationEvents.MODEL_COMPLETED,
]


@pytest.mark.parametrize("event", STEP_EVENTS)
def test_iteration_events_fire_once_per_iteration_in_order(event):
    trainer, fired, order = _TinyTrainer(), [], []
    trainer.add_event_handler(event, lambda e: fired.append(e.state.iteration))
    for name in STEP_EVENTS:
        trainer.add_event_handler(name, lambda e, n=name: order.append(n))
    trainer.run()
    assert fired == list(range(1, 7))
    assert order == STEP_EVENTS * 6


def test_decollate_turns_the_output_into_per_image_dicts():
    trainer = _TinyTrainer(decollate=True)
    trainer.run()
    assert isinstance(trainer.state.output, list) and len(trainer.state.output) == 2
    assert trainer.state.output[0]["pred"].shape == (2,)


def test_none_schedulers_are_dropped():
    net = torch.nn.Linear(2, 2)
    optimizer = torch.optim.SGD(net.parameters(), 0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1)
    trainer = MultiNetworkTrainer(
        "cpu", 1, [{}], {"net": net}, {"net": optimizer}, lr_schedulers={"net": scheduler, "other": None}
    )
    assert trainer.lr_schedulers == {"net": scheduler}
    assert "lr_scheduler_other" not in trainer.checkpoint_objects()


def test_cycling_loader_restarts_and_sets_the_epoch_of_a_distributed_sampler():
    items = list(range(4))
    assert [next(c) for c in [CyclingLoader(items)] for _ in range(10)] == items * 2 + items[:2]
    sampler = DistributedSampler(items, num_replicas=1, rank=0, shuffle=True, seed=0)
    cycled = CyclingLoader(DataLoader(items, batch_size=4, sampler=sampler))
    first = next(cycled).tolist()
    assert cycled.passes == 0 and sampler.epoch == 0 and first == list(sampler)
    second = next(cycled).tolist()
    assert cycled.passes == 1 and sampler.epoch == 1 and second == list(sampler)
    with pytest.raises(ConfigError, match="empty_loader has no batches"):
        next(CyclingLoader([], "empty_loader"))
