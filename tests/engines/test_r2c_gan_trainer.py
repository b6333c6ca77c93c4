"""R2C-GAN trainer (reference losses, unpaired sampling, history pools) and the joint restoration evaluator."""

from __future__ import annotations

import copy
import csv
import math
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from ignite.engine import Events
from monai.data import DataLoader as MonaiDataLoader
from monai.data import MetaTensor
from torch import nn
from torch.utils.data import DataLoader

from monai_xrgan.engines.evaluators import JointRestorationEvaluator, restored_items
from monai_xrgan.engines.image_pool import ImagePool
from monai_xrgan.engines.r2c_gan import R2CGANTrainer
from monai_xrgan.handlers.class_probabilities import ClassProbabilityCSVWriter
from monai_xrgan.losses import GANLoss, probability_cross_entropy
from monai_xrgan.metrics.restoration import degradation_kinds
from monai_xrgan.networks.r2c import r2c_discriminator, r2c_generator
from monai_xrgan.utils.errors import ConfigError

SIZE = 32


def _items(key: str, n: int, seed: int) -> list[dict[str, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    return [{key: torch.rand(1, SIZE, SIZE, generator=g) * 2 - 1, "label": torch.tensor(i % 2)} for i in range(n)]


def tiny_trainer(num_lq: int = 4, num_hq: int = 4, variant: str = "operational", **kwargs: Any) -> R2CGANTrainer:
    lq = DataLoader(_items("lq", num_lq, 1), batch_size=2)
    hq = DataLoader(_items("hq", num_hq, 2), batch_size=2)
    g, f = r2c_generator(variant, base_channels=2), r2c_generator(variant, base_channels=2)
    d_a, d_b = r2c_discriminator(variant, base_channels=2), r2c_discriminator(variant, base_channels=2)
    g_opt = torch.optim.Adam([*g.parameters(), *f.parameters()], 2e-4, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam([*d_a.parameters(), *d_b.parameters()], 2e-4, betas=(0.5, 0.999))
    return R2CGANTrainer(lq, hq, g, f, d_a, d_b, g_opt, d_opt, device="cpu", max_epochs=1, **kwargs)


def test_probability_cross_entropy_is_cross_entropy_of_the_logits():
    logits, labels = torch.randn(5, 2), torch.tensor([0, 1, 1, 0, 1])
    torch.testing.assert_close(
        probability_cross_entropy(torch.softmax(logits, 1), labels), F.cross_entropy(logits, labels)
    )
    assert torch.isfinite(
        probability_cross_entropy(torch.tensor([[1.0, 0.0]]), torch.tensor([1]))
    )  # clipped like Keras


def test_one_iteration_matches_the_reference_losses():
    trainer = tiny_trainer()
    nets = {name: copy.deepcopy(net) for name, net in trainer.raw_networks.items()}
    g, f, d_a, d_b = (nets[k] for k in ("generator", "inverse_generator", "discriminator_lq", "discriminator_hq"))
    lq_batch, hq_batch = next(iter(trainer.data_loader)), next(iter(trainer.hq_data_loader))
    out = trainer._iteration(trainer, lq_batch)

    a, y_a, b, y_b = lq_batch["lq"], lq_batch["label"], hq_batch["hq"], hq_batch["label"]
    ls, ce, l1 = GANLoss("lsgan"), probability_cross_entropy, F.l1_loss
    with torch.no_grad():
        (ab, p_ab), (ba, p_ba) = g(a, return_probs=True), f(b, return_probs=True)
        (aba, p_aba), (bab, p_bab) = f(ab, return_probs=True), g(ba, return_probs=True)
        (aa, p_aa), (bb, p_bb) = f(a, return_probs=True), g(b, return_probs=True)
        expected_g = (
            ls(d_b(ab), True)
            + ls(d_a(ba), True)
            + 0.1 * (ce(p_ab, y_a) + ce(p_ba, y_b))
            + 10 * (l1(aba, a) + l1(bab, b) + 0.01 * (ce(p_aba, y_a) + ce(p_bab, y_b)))
            + 5 * (l1(aa, a) + l1(bb, b) + 0.02 * (ce(p_aa, y_a) + ce(p_bb, y_b)))
        )
        # the pools are not full yet: the discriminators see this iteration's generated images
        expected_d = ls(d_a(a), True) + ls(d_a(ba), False) + ls(d_b(b), True) + ls(d_b(ab), False)
    torch.testing.assert_close(out["loss_g"], expected_g, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(out["loss_d"], expected_d, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(out["pred"], ab)
    assert len(trainer.pools["lq"]) == len(trainer.pools["hq"]) == 2


def test_epoch_is_as_long_as_the_longer_set_and_the_shorter_one_restarts():
    trainer = tiny_trainer(num_lq=4, num_hq=6)  # 2 and 3 batches
    hq_batches = []
    trainer.add_event_handler(
        Events.ITERATION_COMPLETED, lambda e: hq_batches.append(e.state.output["hq"][0, 0, 0, 0].item())
    )
    trainer.run()
    assert trainer.state.iteration == 3 and len(set(hq_batches)) == 3
    trainer = tiny_trainer(num_lq=6, num_hq=2)  # 3 and 1 batches: the HQ loader restarts twice
    trainer.run()
    assert trainer.state.iteration == 3 and trainer.hq_batches.passes == 2


@pytest.mark.parametrize("variant", ["operational", "convolutional"])
def test_every_network_is_updated_and_discriminators_unfrozen(variant):
    trainer = tiny_trainer(variant=variant)
    before = {name: copy.deepcopy(net.state_dict()) for name, net in trainer.raw_networks.items()}
    trainer.run()
    for name, net in trainer.raw_networks.items():
        assert any(not torch.equal(v, before[name][k]) for k, v in net.state_dict().items()), f"{name} not updated"
    assert all(
        p.requires_grad
        for name in ("discriminator_lq", "discriminator_hq")
        for p in trainer.raw_networks[name].parameters()
    )
    assert {k for k in trainer.state.output if k.startswith("loss")} == {
        "loss_g",
        "loss_g_adv",
        "loss_g_cycle",
        "loss_g_identity",
        "loss_g_class",
        "loss_d",
    }


def test_checkpoints_carry_the_history_pools():
    trainer = tiny_trainer()
    trainer.run()
    objects = trainer.checkpoint_objects()
    assert objects["image_pool_lq"] is trainer.pools["lq"] and len(trainer.pools["hq"]) == 4
    restored = ImagePool(50)
    restored.load_state_dict(objects["image_pool_hq"].state_dict())
    torch.testing.assert_close(torch.stack(restored.images), torch.stack(trainer.pools["hq"].images))


def test_bf16_autocast_runs_on_cpu():
    trainer = tiny_trainer(amp=True)
    trainer.run()
    assert torch.isfinite(trainer.state.output["loss_g"]) and not trainer.scaler.is_enabled()


def test_wrong_class_weights_are_a_config_error():
    with pytest.raises(ConfigError, match="class_weights"):
        tiny_trainer(class_weights=(0.1, 0.01))


def test_adversarial_warmup_holds_the_identity_start_while_the_discriminators_train():
    # without the cycle class terms (which pass gradients through the other generator's image) the adversarial terms
    # are the only ones whose gradient moves an identity-start generator's output
    trainer = tiny_trainer(adversarial_warmup=2, class_weights=(0.1, 0.0, 0.02))
    before = {k: copy.deepcopy(trainer.raw_networks[k].state_dict()) for k in ("discriminator_lq", "discriminator_hq")}
    weights = []
    trainer.add_event_handler(Events.ITERATION_COMPLETED, lambda e: weights.append(e.adversarial_weight()))
    trainer.run()  # 2 iterations, both in the warm-up
    x = _items("lq", 2, 5)[0]["lq"][None]
    for name in ("generator", "inverse_generator"):
        torch.testing.assert_close(trainer.raw_networks[name](x), x, rtol=0, atol=0)
    for name, state in before.items():
        assert any(not torch.equal(v, state[k]) for k, v in trainer.raw_networks[name].state_dict().items())
    trainer.state.iteration = 3
    assert weights == [0.0, 0.0] and trainer.adversarial_weight() == 1.0


def test_negative_adversarial_warmup_is_a_config_error():
    with pytest.raises(ConfigError, match="adversarial_warmup"):
        tiny_trainer(adversarial_warmup=-1)


def test_image_pool_fills_then_swaps_half_of_the_time():
    pool = ImagePool(pool_size=3)
    first = torch.arange(3.0).view(3, 1, 1, 1)
    torch.testing.assert_close(pool(first), first)  # filling: the new images come back
    torch.manual_seed(0)
    returned = torch.cat([pool(torch.full((1, 1, 1, 1), 10.0 + i)) for i in range(200)]).flatten()
    old = (returned < 10) | (returned != 10.0 + torch.arange(200))
    assert 0.35 < float(old.float().mean()) < 0.65 and len(pool) == 3
    assert torch.equal(ImagePool(0)(first), first) and ImagePool(0).state_dict()["images"].numel() == 0
    with pytest.raises(ConfigError, match="pool_size"):
        ImagePool(-1)


class _Identity(nn.Module):
    """A 'generator' that returns its input and fixed class probabilities (1 - p, p)."""

    def __init__(self, p: torch.Tensor) -> None:
        super().__init__()
        self.p = p
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor, return_probs: bool = False) -> Any:
        probs = torch.stack([1 - self.p[: len(x)], self.p[: len(x)]], dim=1)
        return (x, probs) if return_probs else x


def test_evaluator_scores_restoration_and_classification():
    clean = [torch.rand(1, SIZE, SIZE) * 2 - 1 for _ in range(4)]
    data = [{"lq": c, "hq": c, "label": torch.tensor(y)} for c, y in zip(clean, (0, 1, 1, 0))]
    network = _Identity(torch.tensor([0.2, 0.9, 0.3, 0.1]))  # predicts 0, 1, 0, 0
    evaluator = JointRestorationEvaluator(
        device="cpu",
        val_data_loader=DataLoader(data, batch_size=4),
        network=network,
        input_key="lq",
        target_key="hq",
        num_classes=2,
        class_names=["normal", "covid"],
        metric_prefix="test_",
        identity_baseline=True,
    )
    evaluator.run()
    m = evaluator.state.metrics
    assert m["test_ssim"] == pytest.approx(1.0) and m["test_identity_ssim"] == pytest.approx(1.0)
    assert m["test_mae"] == pytest.approx(0.0) and evaluator.state.key_metric_name == "test_ssim"
    assert m["test_accuracy"] == pytest.approx(0.75) and m["test_confusion_matrix"] == [[2, 0], [1, 1]]
    assert m["test_covid_sensitivity"] == pytest.approx(0.5) and m["test_covid_specificity"] == pytest.approx(1.0)
    assert m["test_covid_f1"] == pytest.approx(2 / 3) and m["test_covid_auc"] == pytest.approx(1.0)
    assert "test_classification" not in m and all(not isinstance(v, dict) for v in m.values())


def test_evaluator_without_targets_only_runs_the_network():
    data = [{"image": torch.rand(1, SIZE, SIZE)} for _ in range(2)]
    evaluator = JointRestorationEvaluator(
        device="cpu",
        val_data_loader=DataLoader(data, batch_size=2),
        network=_Identity(torch.tensor([0.4, 0.6])),
        target_key=None,
        label_key=None,
    )
    evaluator.run()
    assert evaluator.state.metrics == {}
    output = evaluator.state.output
    assert {"image", "pred", "probs"} <= set(output[0]) and float(output[1]["probs"][1]) == pytest.approx(0.6)


def test_class_probabilities_csv_quotes_file_names_and_keeps_their_order(tmp_path):
    names = ["/data/plain.png", '/data/with, comma and "quotes".png', "/data/third.dcm"]
    data = [{"image": MetaTensor(torch.rand(1, SIZE, SIZE), meta={"filename_or_obj": n})} for n in names]
    evaluator = JointRestorationEvaluator(
        device="cpu", val_data_loader=MonaiDataLoader(data, batch_size=3),
        network=_Identity(torch.tensor([0.25, 0.5, 1.0])), target_key=None,
        label_key=None, val_handlers=[ClassProbabilityCSVWriter(tmp_path / "probs.csv", ["normal", "covid"])],
    )  # fmt: skip
    evaluator.run()
    with open(tmp_path / "probs.csv", newline="", encoding="utf-8") as f:
        header, *rows = list(csv.reader(f))
    assert header == ["image", "normal", "covid"] and [r[0] for r in rows] == names
    assert [float(r[2]) for r in rows] == [0.25, 0.5, 1.0] and all(float(r[1]) + float(r[2]) == 1.0 for r in rows)


def test_evaluator_configuration_errors():
    loader = DataLoader([{"image": torch.zeros(1, 8, 8)}])
    with pytest.raises(ConfigError, match="num_classes"):
        JointRestorationEvaluator(device="cpu", val_data_loader=loader, network=_Identity(torch.zeros(1)))
    with pytest.raises(ConfigError, match="key_metric"):
        JointRestorationEvaluator(
            device="cpu", val_data_loader=loader, network=_Identity(torch.zeros(1)), label_key=None, key_metric="fid"
        )


def test_degradation_kinds_reads_the_demo_descriptions():
    assert degradation_kinds("motion_blur:3+poisson_noise:2") == {"motion_blur", "poisson_noise"}
    assert degradation_kinds("over_exposure:1") == {"over_exposure"}
    assert degradation_kinds("none") == set() and degradation_kinds("") == set()
    with pytest.raises(ConfigError, match="degradation description"):
        degradation_kinds(3)


def _offset_pairs(offsets: list[float]) -> list[dict[str, Any]]:
    """Clean images in [-0.5, 0.5] and inputs shifted by ``offset`` (model range), so PSNR = -20 log10(offset / 2)."""
    g = torch.Generator().manual_seed(0)
    clean = [torch.rand(1, SIZE, SIZE, generator=g) - 0.5 for _ in offsets]
    return [{"image": c + d, "hq": c, "label": torch.tensor(i % 2)} for i, (c, d) in enumerate(zip(clean, offsets))]


def test_evaluator_scores_each_degradation_type():
    offsets = [0.1, 0.2, 0.3, 0.05]
    data = _offset_pairs(offsets)
    for item, description in zip(
        data, ("gaussian_noise:1", "motion_blur:2+poisson_noise:1", "over_exposure:3", "none")
    ):
        item["degradation"] = description
    psnr = [-20 * math.log10(d / 2) for d in offsets]
    evaluator = JointRestorationEvaluator(
        device="cpu", val_data_loader=DataLoader(data, batch_size=3), network=_Identity(torch.full((4,), 0.7)),
        target_key="hq",
        num_classes=2, metric_prefix="test_", identity_baseline=True, group_key="degradation",
    )  # fmt: skip
    evaluator.run()
    m = evaluator.state.metrics
    assert m["test_psnr"] == pytest.approx(sum(psnr) / 4, rel=1e-4)
    assert m["test_psnr_noise"] == pytest.approx(
        (psnr[0] + psnr[1]) / 2, rel=1e-4
    )  # an image in two types counts in both
    assert m["test_psnr_blur"] == pytest.approx(psnr[1], rel=1e-4)
    assert m["test_psnr_overexposure"] == pytest.approx(psnr[2], rel=1e-4)
    assert "test_psnr_underexposure" not in m and "test_ssim_underexposure" not in m  # no such test image
    assert m["test_ssim_blur"] < m["test_ssim_noise"] < 1.0 and m["test_ssim_overexposure"] < m["test_ssim_blur"]
    assert m["test_identity_psnr_noise"] == pytest.approx(m["test_psnr_noise"])  # the identity restores nothing
    assert m["test_accuracy"] == pytest.approx(0.5)  # the classification report keeps its names


def test_restored_items_are_the_restorations_on_unit_range_with_their_labels():
    data = _offset_pairs([0.1, 0.2, 0.3])
    evaluator = JointRestorationEvaluator(
        device="cpu",
        val_data_loader=DataLoader(data, batch_size=2),
        network=_Identity(torch.zeros(3)),
        target_key=None,
        label_key=None,
    )
    items = restored_items(evaluator)
    assert [i["label"] for i in items] == [0, 1, 0]
    for item, source in zip(items, data):
        assert torch.allclose(item["image"], ((source["image"] + 1) / 2).clamp(0, 1))
    unlabelled = [{"image": d["image"]} for d in data]
    evaluator = JointRestorationEvaluator(
        device="cpu",
        val_data_loader=DataLoader(unlabelled, batch_size=2),
        network=_Identity(torch.zeros(3)),
        target_key=None,
        label_key=None,
    )
    with pytest.raises(ConfigError, match="no 'label'"):
        restored_items(evaluator)


def _scene(label: int, g: torch.Generator) -> torch.Tensor:
    """A smooth random image on [-1, 1]; class 1 adds a bright disc (an opacity) at a random place."""
    image = F.interpolate(torch.rand(1, 1, 4, 4, generator=g), size=SIZE, mode="bilinear")[0] - 0.5
    if label:
        centre = torch.randint(8, SIZE - 8, (2,), generator=g)
        rows, cols = torch.meshgrid(torch.arange(SIZE), torch.arange(SIZE), indexing="ij")
        image = image + 0.8 * (((rows - centre[0]) ** 2 + (cols - centre[1]) ** 2) < 25).float()
    return image.clamp(-1, 1)


def test_tiny_model_keeps_the_no_restoration_psnr_and_learns_the_classes():
    g = torch.Generator().manual_seed(0)
    clean = [_scene(i % 2, g) for i in range(8)]
    noisy = [(c + 0.2 * torch.randn(c.shape, generator=g)).clamp(-1, 1) for c in clean]
    lq = DataLoader([{"lq": x, "label": torch.tensor(i % 2)} for i, x in enumerate(noisy)], batch_size=2, shuffle=True)
    hq = DataLoader([{"hq": _scene(i % 2, g), "label": torch.tensor(i % 2)} for i in range(8)], batch_size=2)
    torch.manual_seed(0)
    gen, inv = r2c_generator(base_channels=4), r2c_generator(base_channels=4)
    d_a, d_b = r2c_discriminator(base_channels=4), r2c_discriminator(base_channels=4)
    g_opt = torch.optim.Adam([*gen.parameters(), *inv.parameters()], 2e-4, betas=(0.5, 0.999))
    d_opt = torch.optim.Adam([*d_a.parameters(), *d_b.parameters()], 2e-4, betas=(0.5, 0.999))
    engine = {"device": "cpu", "max_epochs": 15}
    R2CGANTrainer(lq, hq, gen, inv, d_a, d_b, g_opt, d_opt, class_weights=(1.0, 0.1, 0.2), **engine).run()

    degraded, target, labels = torch.stack(noisy), torch.stack(clean), torch.tensor([i % 2 for i in range(8)])
    with torch.no_grad():
        restored, probs = gen.eval()(degraded, return_probs=True)

    def psnr(x: torch.Tensor) -> float:
        return (10 * torch.log10(4.0 / F.mse_loss(x, target))).item()  # peak-to-peak 2 on [-1, 1]

    assert psnr(restored) >= psnr(degraded) - 0.1  # 60 iterations do not undo the identity start
    assert (probs.argmax(1) == labels).float().mean() > 0.5  # the joint classifier learns its training images
