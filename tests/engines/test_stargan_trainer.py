from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest
import torch
from ignite.engine import Events

from monai_xrgan.engines import StarGANEvaluator, StarGANTrainer
from monai_xrgan.engines.evaluators import cyclic_targets
from monai_xrgan.losses import attention_loss, feature_matching_loss, gradient_penalty, total_variation
from monai_xrgan.networks import StarGANDiscriminator, StarGANGenerator
from monai_xrgan.utils.errors import ConfigError

MIGAN = {"key_domain": 2, "p_key": 0.5, "lambda_key": 1.0, "lambda_att": 0.1, "lambda_tv": 0.1, "lambda_fm": 1.0,
         "lambda_cp": 1.0}  # fmt: skip


def _batches(count: int, size: int = 4) -> list[dict]:
    g = torch.Generator().manual_seed(0)
    return [
        {"image": torch.rand(size, 1, 32, 32, generator=g) * 2 - 1, "domain": torch.arange(size) % 3}
        for _ in range(count)
    ]


def _outputs(trainer: StarGANTrainer) -> list[dict]:
    """Run ``trainer`` and return every iteration's output."""
    outputs = []
    trainer.add_event_handler(Events.ITERATION_COMPLETED, lambda e: outputs.append(dict(e.state.output)))
    trainer.run()
    return outputs


def _load_benchmark(name: str) -> ModuleType:
    """A script of ``benchmarks/`` (not a package) as a module."""
    spec = importlib.util.spec_from_file_location(
        name, Path(__file__).resolve().parents[2] / "benchmarks" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _trainer(batches, key_branch: bool, n_critic: int = 2, **kwargs) -> StarGANTrainer:
    torch.manual_seed(0)
    g = StarGANGenerator(1, 3, base_channels=8, num_res_blocks=1, key_domain=2 if key_branch else None)
    d = StarGANDiscriminator(1, 3, image_size=32, base_channels=8, num_layers=5)
    options = {**(MIGAN if key_branch else {}), **kwargs}
    optimizers = torch.optim.Adam(g.parameters(), 1e-4), torch.optim.Adam(d.parameters(), 1e-4)
    return StarGANTrainer(
        device="cpu", max_epochs=1, train_data_loader=batches, generator=g, discriminator=d,
        g_optimizer=optimizers[0], d_optimizer=optimizers[1], n_critic=n_critic, **options,
    )  # fmt: skip


def test_gradient_penalty_of_a_linear_critic_is_exact():
    weight = torch.randn(1, 2, 4, 4)
    penalty = gradient_penalty(lambda x: (x * weight).flatten(1).sum(1), torch.rand(3, 2, 4, 4), torch.rand(3, 2, 4, 4))
    torch.testing.assert_close(penalty, (weight.norm() - 1) ** 2)


def test_mask_terms():
    flat, ramp = torch.ones(2, 1, 4, 4), torch.arange(4.0).expand(2, 1, 4, 4)
    torch.testing.assert_close(total_variation(flat), torch.zeros(2))
    torch.testing.assert_close(total_variation(ramp), torch.ones(2))
    features = [torch.ones(2, 3, 2, 2)]
    assert float(feature_matching_loss(features, [torch.zeros(2, 3, 2, 2)], torch.ones(2), torch.ones(2))) == 1.0
    assert float(feature_matching_loss(features, [torch.zeros(2, 3, 2, 2)], torch.ones(2), torch.zeros(2))) == 0.0


def test_mask_regulariser_pushes_towards_change_as_ganimation():
    # GANimation penalises the weight of the input image: in A * C + (1 - A) * x that is 1 - A, so the gradient of
    # the penalty on A is negative everywhere and a descent step raises A (more change), never lowers it
    mask = torch.full((2, 1, 4, 4), 0.3, requires_grad=True)
    loss = attention_loss(mask).mean()
    loss.backward()
    torch.testing.assert_close(loss.detach(), torch.tensor(0.7))
    assert (mask.grad < 0).all()
    # through a generator step: only lambda_att on, the key branch's attention bias must grow
    trainer = _trainer(_batches(1), True, n_critic=1, **{f"lambda_{k}": 0.0 for k in ("key", "tv", "fm", "cp")},
                       lambda_cls=0.0, lambda_rec=0.0, p_key=1.0)  # fmt: skip
    for p in trainer.networks["discriminator"].parameters():
        p.data.zero_()  # no adversarial gradient: the attention term alone
    bias = trainer.networks["generator"].key_attention.bias
    before = float(bias)
    trainer.run()
    assert float(bias) > before


@pytest.mark.parametrize("key_branch", [True, False])
def test_critic_schedule_and_loss_terms(key_branch):
    outputs = _outputs(_trainer(_batches(4), key_branch))
    assert [("loss_g" in o) for o in outputs] == [False, True, False, True]  # one G step per n_critic D steps
    extra = {"loss_g_key", "loss_g_att", "loss_g_tv", "loss_g_fm", "loss_g_cp"}
    assert (extra <= set(outputs[1])) == key_branch and (not extra & set(outputs[1])) == (not key_branch)
    assert {"loss_d", "loss_d_gp", "loss_d_cls", "loss_d_real", "loss_d_fake"} <= set(outputs[0])
    assert all(torch.isfinite(torch.as_tensor(v)).all() for o in outputs for k, v in o.items() if k.startswith("loss"))


def test_target_sampling():
    source = torch.tensor([0, 1, 2, 0] * 50)
    assert (_trainer([], True, p_key=1.0).sample_targets(source) == 2).all()
    never = _trainer([], True, p_key=0.0).sample_targets(source)
    assert not (never == 2).any() and set(never.tolist()) == {0, 1}
    half = (_trainer([], True).sample_targets(source) == 2).float().mean()
    assert 0.35 < float(half) < 0.65
    assert sorted(_trainer([], False).sample_targets(source).tolist()) == sorted(
        source.tolist()
    )  # StarGAN: a permutation


def test_bad_settings():
    with pytest.raises(ConfigError, match="need the generator's key branch"):
        _trainer([], False, key_domain=2, lambda_att=0.1)
    with pytest.raises(ConfigError, match="need a key_domain"):
        _trainer([], False, lambda_key=1.0)
    with pytest.raises(ConfigError, match="key branch is for domain 2 but the trainer's key_domain is 1"):
        _trainer([], True, key_domain=1)
    with pytest.raises(ConfigError, match="n_critic must be an integer >= 1"):
        _trainer([], True, n_critic=0)
    bad = [{"image": torch.zeros(2, 1, 32, 32), "domain": torch.tensor([0, 3])}]
    with pytest.raises(Exception, match="not all domain indices in \\[0, 2\\]"):
        _trainer(bad, True).run()


def test_evaluator_translates_into_other_domains_and_scores():
    source = torch.tensor([0, 1, 2, 0, 1, 2])
    targets = cyclic_targets(source, 3)
    assert not (targets == source).any() and set(targets.tolist()) == {0, 1, 2}
    trainer = _trainer(_batches(1), True)
    evaluator = StarGANEvaluator(
        trainer.networks["discriminator"],
        device="cpu",
        val_data_loader=_batches(2),
        network=trainer.networks["generator"],
    )
    evaluator.run()
    metrics = evaluator.state.metrics
    assert {"val_translation_acc", "val_cycle_ssim", "val_cycle_psnr", "val_cycle_mae"} <= set(metrics)
    assert 0.0 <= metrics["val_translation_acc"] <= 1.0
    with pytest.raises(ConfigError, match="key_metric must be one of"):
        StarGANEvaluator(
            trainer.networks["discriminator"],
            device="cpu",
            val_data_loader=[],
            network=trainer.networks["generator"],
            key_metric="fid",
        )


def test_fake_key_classification_term_trains_the_critic_on_translations_into_the_key_domain():
    outputs = _outputs(_trainer(_batches(2), True, n_critic=1, lambda_key_fake=1.0))
    assert all(torch.isfinite(o["loss_d_key_fake"]) and float(o["loss_d_key_fake"]) > 0 for o in outputs)
    assert "loss_d_key_fake" not in _outputs(_trainer(_batches(1), True))[0]
    with pytest.raises(ConfigError, match="key_fake need a key_domain"):
        _trainer([], False, lambda_key_fake=1.0)


@pytest.mark.slow
def test_tiny_migan_run_paints_the_key_finding_that_the_identity_does_not():
    # the check, with the toy of benchmarks/migan_key_branch_toy.py (the card's numbers come from it):
    # translations into the scarce key domain (4 training images) must be called key-domain images by a classifier
    # that did not train with the generator (nearest centre mean) more often than copies
    toy = _load_benchmark("migan_key_branch_toy")
    train_x, train_d = toy.toy_images((24, 24, 4), seed=0)
    held_out, _ = toy.toy_images((8, 8, 0), seed=1)
    means = toy.centre_means(train_x, train_d)
    generator, _ = toy.train_toy(train_x, train_d, seed=0, iters=1200, lr=1e-3, lambda_key_fake=1.0)
    assert toy.key_translations(lambda x, c: x, held_out, means)[1] == 0.0
    assert toy.key_translations(generator, held_out, means)[1] >= 0.75
