"""Does MI-GAN's key branch paint a key-domain finding that is trivially visible, learned from a few key images?

A toy with the demo's structure at 16x16: three domains on a dark noisy background, ``0`` nothing, ``1`` a brighter
top half (a diffuse finding), ``2`` (the scarce key domain) a bright 6x6 block in the centre (a focal finding), with
``--key_images`` key training images against 24 of each other domain. The bundle's MI-GAN terms and weights
(WGAN-GP, n_critic 5, ``p_key`` 0.5, ``λ_key`` 1, ``λ_att`` / ``λ_tv`` 0.1, ``λ_fm`` / ``λ_cp`` 1) train a small
generator and critic; then the held-out normal and top-half images are translated into the key domain and scored:

* ``painted``: the share of translations whose centre block is nearer the key domain's mean there than the other
  domains' (the finding was painted); the identity generator scores 0;
* ``centre``: the mean intensity of their centre block (real key images 0.7, the others about -0.6);
* ``critic p(key)``: the critic's own domain classifier on them, whose cross entropy is the generator's key signal.

A high ``critic p(key)`` with a low ``painted`` share means the generator satisfies the critic's classifier, which
has seen only the few real key images, without painting the finding (an AC-GAN classifier exploited).
``--lambda_key_fake 1`` also trains that classifier on the translations into the key domain, labelled with their
source domains (the trainer's ``lambda_key_fake``, off in the paper and the bundle).

    python benchmarks/migan_key_branch_toy.py --seeds 0 1 2 3 4 --iters 1200
"""

from __future__ import annotations

import argparse
import time

import torch

from monai_xrgan.engines import StarGANTrainer
from monai_xrgan.networks import StarGANDiscriminator, StarGANGenerator

SIZE, KEY = 16, 2
CENTRE = (slice(None), 0, slice(5, 11), slice(5, 11))
#: the bundle's MI-GAN terms (``bundles/migan_ct/configs/train.json``)
MIGAN = {"key_domain": KEY, "p_key": 0.5, "lambda_key": 1.0, "lambda_att": 0.1, "lambda_tv": 0.1, "lambda_cp": 1.0}


def toy_images(counts: tuple[int, ...], seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``counts[d]`` images of each domain ``d`` in ``[-1, 1]`` and their domain labels."""
    generator = torch.Generator().manual_seed(seed)
    images = []
    for domain, count in enumerate(counts):
        x = torch.rand(count, 1, SIZE, SIZE, generator=generator) * 0.4 - 0.8
        if domain == 1:
            x[:, :, : SIZE // 2] += 0.6
        if domain == KEY:
            x[CENTRE] = 0.7
        images.append(x)
    return torch.cat(images), torch.cat([torch.full((n,), d) for d, n in enumerate(counts)])


def train_toy(
    train_x: torch.Tensor,
    train_d: torch.Tensor,
    seed: int,
    iters: int = 1200,
    lr: float = 1e-3,
    batch_size: int = 8,
    lambda_fm: float = 1.0,
    lambda_key_fake: float = 0.0,
) -> tuple[StarGANGenerator, StarGANDiscriminator]:
    """Train the toy's small MI-GAN generator and critic (random batches drawn with ``seed``); both returned."""
    torch.manual_seed(seed)
    generator = StarGANGenerator(1, 3, base_channels=8, num_res_blocks=1, key_domain=KEY)
    critic = StarGANDiscriminator(1, 3, image_size=SIZE, base_channels=8, num_layers=4)
    draw = torch.Generator().manual_seed(seed)
    batches = []
    for _ in range(iters):
        index = torch.randint(0, len(train_x), (batch_size,), generator=draw)
        batches.append({"image": train_x[index], "domain": train_d[index]})
    betas = (0.5, 0.999)
    StarGANTrainer(
        device="cpu", max_epochs=1, train_data_loader=batches, generator=generator, discriminator=critic,
        g_optimizer=torch.optim.Adam(generator.parameters(), lr, betas=betas),
        d_optimizer=torch.optim.Adam(critic.parameters(), lr, betas=betas),
        n_critic=5, lambda_fm=lambda_fm, lambda_key_fake=lambda_key_fake, **MIGAN,
    ).run()  # fmt: skip
    return generator.eval(), critic


def centre_means(train_x: torch.Tensor, train_d: torch.Tensor) -> torch.Tensor:
    """Mean intensity of the centre block per domain."""
    return torch.stack([train_x[train_d == d][CENTRE].mean() for d in range(3)])


def key_translations(translate, test_x: torch.Tensor, means: torch.Tensor) -> tuple[torch.Tensor, float]:
    """Translations of ``test_x`` into the key domain by ``translate(x, c)`` and the share of them whose centre
    block is nearest the key domain's mean (the finding painted)."""
    with torch.no_grad():
        translated = translate(test_x, torch.full((len(test_x),), KEY))
    centre = translated[CENTRE].mean(dim=(1, 2))
    nearest = (centre[:, None] - means[None]).abs().argmin(dim=1)
    return translated, float((nearest == KEY).float().mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--iters", type=int, default=1200, help="training iterations (critic steps)")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--batch_size", type=int, default=8)
    parser.add_argument("--key_images", type=int, default=4, help="key-domain training images (24 of each other)")
    parser.add_argument("--lambda_fm", type=float, default=1.0)
    parser.add_argument("--lambda_key_fake", type=float, default=0.0, help="the critic also classifies translations")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    train_x, train_d = toy_images((24, 24, args.key_images), seed=0)
    test_x, _ = toy_images((8, 8, 0), seed=1)
    means = centre_means(train_x, train_d)
    print(f"toy {SIZE}x{SIZE}, training images per domain {torch.bincount(train_d).tolist()}, lr {args.lr}, "
          f"batch {args.batch_size}, {args.iters} iterations, lambda_fm {args.lambda_fm}, "
          f"lambda_key_fake {args.lambda_key_fake}; centre means per domain "
          f"{[round(float(v), 2) for v in means]}; the identity paints "
          f"{key_translations(lambda x, c: x, test_x, means)[1]:.3f}")  # fmt: skip
    print(f"{'seed':>4} {'painted':>8} {'centre':>7} {'critic p(key)':>13} {'seconds':>7}")
    for seed in args.seeds:
        start = time.perf_counter()
        generator, critic = train_toy(
            train_x, train_d, seed, args.iters, args.lr, args.batch_size, args.lambda_fm, args.lambda_key_fake
        )
        translated, painted = key_translations(generator, test_x, means)
        with torch.no_grad():
            p_key = critic(translated)[1].softmax(dim=1)[:, KEY].mean()
        print(f"{seed:>4} {painted:>8.3f} {float(translated[CENTRE].mean()):>7.2f} {float(p_key):>13.3f} "
              f"{time.perf_counter() - start:>7.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
