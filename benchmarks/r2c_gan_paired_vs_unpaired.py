"""Diagnose R2C-GAN restoration on demo-like data: the paired-L1 upper bound of the generator vs the unpaired
:class:`~monai_xrgan.engines.R2CGANTrainer`, PSNR per degradation type every ``--every`` iterations, and how well a
discriminator alone tells degraded from clean images.

The data is the ``r2c_gan`` demo task generated at ``--size`` with its validation split enlarged to ``--num_pairs``
pairs: the paired run trains the generator alone with L1 on those pairs (an upper bound: the unpaired trainer never
sees a pair; ``--with_clean`` adds the clean training images as clean-to-clean pairs, what the unpaired identity term
asks); the unpaired run trains all four networks on ``training_lq`` / ``training_hq`` as the bundle does
(without its 286/256 resize-and-crop). Both are scored on the 32 test pairs, per degradation type as the bundle's
report, with the joint classifier's test accuracy for the unpaired run. The discriminator run trains ``D_B`` alone
on clean (real) vs degraded (fake: the identity start's output) training images and prints the AUC of its mean patch
score on the test split, overall and per type (0.5: it cannot tell them apart). CPU seconds are this process's.

    python benchmarks/r2c_gan_paired_vs_unpaired.py --mode paired --iters 3000 [--with_clean]
    python benchmarks/r2c_gan_paired_vs_unpaired.py --mode unpaired --iters 1500 [--adversarial_warmup 500]
        [--extra_test OTHER/datalist.json]   # the same model scored on another data set's test split too
    python benchmarks/r2c_gan_paired_vs_unpaired.py --mode discriminator --iters 5000 [--d_lr 1e-3 --d_no_norm]
    python benchmarks/r2c_gan_paired_vs_unpaired.py --mode classifier --iters 1280   # the class branch alone

The classifier run trains the generator's classification path alone (cross entropy on the labelled LQ and HQ
training images, no image loss): what the joint classifier can reach without the GAN's terms.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from ignite.engine import Events
from monai.metrics import PSNRMetric, SSIMMetric, compute_roc_auc
from torch.utils.data import DataLoader

from monai_xrgan.data import load_datalist
from monai_xrgan.demo.datasets import ensure_demo_data
from monai_xrgan.engines import R2CGANTrainer
from monai_xrgan.metrics import DEGRADATION_GROUPS
from monai_xrgan.networks.r2c import r2c_discriminator, r2c_generator
from monai_xrgan.transforms import XRayPreprocessd


def load_split(datalist: Path, split: str, keys: list[str], size: int) -> tuple[list[dict], list[dict]]:
    """The preprocessed items of ``split`` (images on [-1, 1]) and its raw datalist entries."""
    items = load_datalist(str(datalist), split, str(datalist.parent), keys=keys)
    prep = XRayPreprocessd(keys=[k for k in keys if k != "label"], spatial_size=size, keep_dicom_tags=False)
    return [prep(item) for item in items], json.loads(datalist.read_text(encoding="utf-8"))[split]


def auc(positive: torch.Tensor, negative: torch.Tensor) -> float:
    """Area under the ROC curve of scores that should be higher for ``positive`` than for ``negative``."""
    labels = torch.cat([torch.ones(len(positive)), torch.zeros(len(negative))])
    return float(compute_roc_auc(torch.cat([positive, negative]), labels))


def psnr01(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-image PSNR on [0, 1] of images on [-1, 1]."""
    return PSNRMetric(max_val=1.0)(((pred + 1) / 2).clamp(0, 1), (target + 1) / 2).flatten()


def make_discriminators(args: argparse.Namespace) -> list[torch.nn.Module]:
    """``D_A`` and ``D_B`` of the unpaired run; ``--d_no_norm`` drops their instance norm (an ablation only)."""
    discs = [r2c_discriminator(args.variant, base_channels=args.base_channels) for _ in range(2)]
    if args.d_no_norm:
        for disc in discs:
            disc.model[3] = torch.nn.Identity()  # the InstanceNorm2d after the second layer
    return discs


class TestScorer:
    """PSNR / SSIM on [0, 1] of restorations of the test split vs the clean originals, overall and per degradation
    group, and the joint classifier's accuracy."""

    def __init__(self, datalist: Path, size: int) -> None:
        items, raw = load_split(datalist, "test", ["image", "hq"], size)
        self.x = torch.stack([d["image"].as_tensor() for d in items])
        self.y = torch.stack([d["hq"].as_tensor() for d in items])
        self.labels = torch.tensor([r["label"] for r in raw])
        self.kinds = [len(r["degradation"].split("+")) for r in raw]
        self.groups = {
            g: [i for i, r in enumerate(raw) if any(k in r["degradation"] for k in kinds)]
            for g, kinds in DEGRADATION_GROUPS.items()
        }
        self.baseline = self.similarity(self.x)

    def similarity(self, pred: torch.Tensor) -> dict[str, tuple[float, float]]:
        p, t = ((pred + 1) / 2).clamp(0, 1), (self.y + 1) / 2
        psnr = psnr01(pred, self.y)
        ssim = SSIMMetric(spatial_dims=2, data_range=1.0)(p, t).flatten()
        scores = {"all": (psnr.mean().item(), ssim.mean().item())}
        scores.update({g: (psnr[i].mean().item(), ssim[i].mean().item()) for g, i in self.groups.items()})
        return scores

    def discriminator_line(self, name: str, disc: torch.nn.Module) -> str:
        """AUC of ``disc``'s mean patch score, clean (positive) vs degraded test images, overall and per group."""
        disc.eval()
        with torch.no_grad():
            real, fake = disc(self.y).mean((1, 2, 3)), disc(self.x).mean((1, 2, 3))
        disc.train()
        aucs = {"all": auc(real, fake)} | {g: auc(real[i], fake[i]) for g, i in self.groups.items()}
        return f"{name:>22s} | D_B AUC clean vs degraded " + " ".join(f"{k} {v:.2f}" for k, v in aucs.items())

    def restore(self, net: torch.nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
        """``net``'s restorations and class probabilities of the test inputs (eval mode, back to train after)."""
        net.eval()
        with torch.no_grad():
            restored, probs = net(self.x, return_probs=True)
        net.train()
        return restored, probs

    def kinds_line(self, name: str, net: torch.nn.Module) -> str:
        """PSNR change vs the input and accuracy of ``net`` per number of degradation kinds of the test images."""
        restored, probs = self.restore(net)
        gain = psnr01(restored, self.y) - psnr01(self.x, self.y)
        correct = (probs.argmax(1) == self.labels).float()
        cells = []
        for n in sorted(set(self.kinds)):
            i = [k for k, m in enumerate(self.kinds) if m == n]
            cells.append(
                f"{n} kind(s): {len(i)} images, {gain[i].mean().item():+.2f} dB, accuracy {correct[i].mean():.2f}"
            )
        return f"{name:>22s} | " + " | ".join(cells)

    def line(self, name: str, net: torch.nn.Module | None = None) -> str:
        if net is None:
            scores, extra = self.baseline, ""
        else:
            restored, probs = self.restore(net)
            scores = self.similarity(restored)
            extra = f" | accuracy {(probs.argmax(1) == self.labels).float().mean().item():.3f}"
        cells = " ".join(f"{k} {v[0]:6.2f} ({v[0] - self.baseline[k][0]:+.2f})" for k, v in scores.items())
        return f"{name:>22s} | PSNR dB (vs input) {cells} | SSIM {scores['all'][1]:.3f}{extra}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default="bundles/r2c_gan_cxr/data/diagnosis", help="generated there, reused after")
    parser.add_argument("--mode", choices=("paired", "unpaired", "discriminator", "classifier"), default="paired")
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--num_train", type=int, default=64, help="unpaired LQ and HQ training images each")
    parser.add_argument("--num_pairs", type=int, default=64, help="pairs of the paired run (the validation split)")
    parser.add_argument("--base_channels", type=int, default=16)
    parser.add_argument("--variant", default="operational", help="the networks' variant, e.g. convolutional")
    parser.add_argument("--iters", type=int, default=1000)
    parser.add_argument("--every", type=int, default=250)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--class_weights", type=float, nargs=3, default=(1.0, 0.1, 0.2))
    parser.add_argument("--adversarial_warmup", type=int, default=0)
    parser.add_argument("--lambda_cycle", type=float, default=10.0)
    parser.add_argument("--lambda_identity", type=float, default=5.0)
    parser.add_argument("--d_lr", type=float, default=None, help="discriminators' learning rate (default: --lr)")
    parser.add_argument("--d_no_norm", action="store_true", help="discriminators without their instance norm")
    parser.add_argument("--with_clean", action="store_true", help="paired run: add clean-to-clean pairs")
    parser.add_argument("--extra_test", default=None, help="another datalist whose test split scores the same model")
    args = parser.parse_args()
    torch.manual_seed(0)
    datalist = Path(ensure_demo_data(
        args.data, "r2c_gan", size=args.size, seed=0, num_train_lq=args.num_train, num_train_hq=args.num_train,
        num_val=args.num_pairs, num_test=32,
    ))  # fmt: skip
    scorer = TestScorer(datalist, args.size)
    print(f"{args.mode}, {args.size}², base_channels {args.base_channels}, lr {args.lr}; test images per type: "
          f"{ {g: len(i) for g, i in scorer.groups.items()} }\n{scorer.line('degraded input')}")  # fmt: skip
    gen = r2c_generator(args.variant, base_channels=args.base_channels)

    extra = TestScorer(Path(args.extra_test), args.size) if args.extra_test else None

    def report(iteration: int) -> None:
        print(scorer.line(f"it {iteration}, {time.process_time():.0f} CPU-s", gen), flush=True)
        if extra is not None:
            print(extra.line("same model, extra test", gen))
            print(scorer.kinds_line("by kinds, test", gen))
            print(extra.kinds_line("by kinds, extra test", gen), flush=True)

    if args.mode == "paired":
        pairs, _ = load_split(datalist, "validation", ["image", "hq"], args.size)
        x, y = (torch.stack([d[k].as_tensor() for d in pairs]) for k in ("image", "hq"))
        if args.with_clean:
            clean, _ = load_split(datalist, "training_hq", ["hq", "label"], args.size)
            c = torch.stack([d["hq"].as_tensor() for d in clean])
            x, y = torch.cat([x, c]), torch.cat([y, c])
        opt = torch.optim.Adam(gen.parameters(), lr=args.lr, betas=(0.5, 0.999))
        order = torch.Generator().manual_seed(0)
        for it in range(1, args.iters + 1):
            i = torch.randint(len(x), (1,), generator=order)
            loss = F.l1_loss(gen(x[i]), y[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if it % args.every == 0:
                report(it)
        return
    lq, _ = load_split(datalist, "training_lq", ["lq", "label"], args.size)
    hq, _ = load_split(datalist, "training_hq", ["hq", "label"], args.size)
    # built before the discriminators: the earlier runs' seeding
    inv = r2c_generator(args.variant, base_channels=args.base_channels)
    d_a, d_b = make_discriminators(args)
    d_opt = torch.optim.Adam([*d_a.parameters(), *d_b.parameters()], lr=args.d_lr or args.lr, betas=(0.5, 0.999))
    if args.mode == "classifier":
        # the generator's classification path alone: cross entropy on the labelled LQ and HQ training images
        images = torch.stack([d[k].as_tensor() for k, items in (("lq", lq), ("hq", hq)) for d in items])
        labels = torch.tensor([int(d["label"]) for items in (lq, hq) for d in items])
        opt = torch.optim.Adam(gen.parameters(), lr=args.lr, betas=(0.5, 0.999))
        order = torch.Generator().manual_seed(0)
        for it in range(1, args.iters + 1):
            i = torch.randint(len(images), (1,), generator=order)
            loss = F.nll_loss(gen(images[i], return_probs=True)[1].clamp_min(1e-7).log(), labels[i])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if it % args.every == 0:
                report(it)
        return
    if args.mode == "discriminator":
        fake, real = (torch.stack([d[k].as_tensor() for d in items]) for k, items in (("lq", lq), ("hq", hq)))
        order = torch.Generator().manual_seed(0)
        print(scorer.discriminator_line("it 0", d_b))
        for it in range(1, args.iters + 1):
            i, j = torch.randint(len(fake), (1,), generator=order), torch.randint(len(real), (1,), generator=order)
            loss = ((d_b(real[j]) - 1) ** 2).mean() + (d_b(fake[i]) ** 2).mean()  # LSGAN, as the trainer's D step
            d_opt.zero_grad()
            loss.backward()
            d_opt.step()
            if it % args.every == 0:
                print(scorer.discriminator_line(f"it {it}, {time.process_time():.0f} CPU-s", d_b), flush=True)
        return
    lq_loader, hq_loader = (
        DataLoader([{k: d[k].as_tensor(), "label": torch.as_tensor(d["label"])} for d in items], shuffle=True)
        for k, items in (("lq", lq), ("hq", hq))
    )
    g_opt = torch.optim.Adam([*gen.parameters(), *inv.parameters()], lr=args.lr, betas=(0.5, 0.999))
    trainer = R2CGANTrainer(
        lq_loader, hq_loader, gen, inv, d_a, d_b, g_opt, d_opt,
        device="cpu", max_epochs=args.iters // len(lq_loader) + 1,
        class_weights=args.class_weights, lambda_cycle=args.lambda_cycle, lambda_identity=args.lambda_identity,
        adversarial_warmup=args.adversarial_warmup,
    )  # fmt: skip

    @trainer.on(Events.ITERATION_COMPLETED(every=args.every))
    def _report(engine: R2CGANTrainer) -> None:
        report(engine.state.iteration)
        if engine.state.iteration >= args.iters:
            engine.terminate()

    trainer.run()


if __name__ == "__main__":
    main()
