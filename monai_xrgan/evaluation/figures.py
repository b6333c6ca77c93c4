"""Report figures drawn with matplotlib: training curves from TensorBoard logs, confusion matrices, sample grids."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["read_scalars", "plot_scalars", "plot_confusion", "plot_image_grid", "plot_claims"]


def read_scalars(tb_dir: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """All scalar series of a TensorBoard log folder: ``{tag: (steps, values)}`` (empty when there is no log)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    if not Path(tb_dir).is_dir():
        return {}
    events = EventAccumulator(str(tb_dir), size_guidance={"scalars": 0})
    events.Reload()
    series = {}
    for tag in events.Tags().get("scalars", []):
        points = events.Scalars(tag)
        series[tag] = (np.array([p.step for p in points]), np.array([p.value for p in points], dtype=float))
    return series


def plot_scalars(tb_dirs: Mapping[str, str | Path], png: str | Path, tags: Sequence[str] | None = None,
                 title: str = "training curves") -> Path | None:  # fmt: skip
    """One panel per scalar tag (losses per iteration, validation metrics per epoch), one line per labelled log.

    Args:
        tb_dirs: ``{label: TensorBoard log folder}``, e.g. one per seed.
        png: output file.
        tags: tags to draw (default: every tag found).
        title: figure title.

    Returns:
        ``png``, or None when the logs hold no scalar to draw.
    """
    logs = {label: read_scalars(d) for label, d in tb_dirs.items()}
    found = list(dict.fromkeys(t for series in logs.values() for t in series))
    tags = [t for t in (tags if tags is not None else found) if t in found]
    if not tags:
        return None
    fig, axes = _panels(len(tags), max_cols=3, panel_size=(4.2, 3.0))
    for ax, tag in zip(axes.flat, tags):
        for label, series in logs.items():
            if tag in series:
                steps, values = series[tag]
                ax.plot(
                    steps, values, label=label, linewidth=1.0, marker="o" if len(steps) < 30 else None, markersize=3
                )
        ax.set_title(tag, fontsize=9)
        ax.set_xlabel("step")
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=7)
    fig.suptitle(title)
    return _save(fig, png)


def plot_confusion(matrices: Mapping[str, Sequence[Sequence[float]]], class_names: Sequence[str], png: str | Path,
                   title: str = "confusion matrices (rows: true class, columns: predicted)") -> Path:  # fmt: skip
    """One annotated confusion matrix per arm (counts, or means over seeds)."""
    fig, axes = plt.subplots(1, len(matrices), figsize=(3.4 * len(matrices), 3.4), squeeze=False)
    for ax, (name, matrix) in zip(axes.flat, matrices.items()):
        m = np.asarray(matrix, dtype=float)
        ax.imshow(m, cmap="Blues")
        for (i, j), value in np.ndenumerate(m):
            ax.text(j, i, f"{value:.3g}", ha="center", va="center", fontsize=8,
                    color="white" if value > m.max() / 2 else "black")  # fmt: skip
        ax.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(class_names)), class_names, fontsize=7)
        ax.set_title(name, fontsize=9)
    fig.suptitle(title, fontsize=10)
    return _save(fig, png)


def plot_image_grid(columns: Mapping[str, Sequence[np.ndarray]], png: str | Path, rows_first: bool = True,
                    title: str = "", cmap: str = "gray") -> Path:  # fmt: skip
    """A grid of 2-D images, one column per name (e.g. input | output | target), one row per sample.

    Args:
        columns: ``{column title: [image, ...]}``; columns may hold different numbers of images.
        png: output file.
        rows_first: the arrays are rows-first (as displayed); False for MONAI's ``(x, y)`` tensors, which are
            transposed for display.
        title: figure title.
        cmap: colour map (difference maps read better with e.g. ``"magma"``).
    """
    rows = max(len(images) for images in columns.values())
    fig, axes = plt.subplots(rows, len(columns), figsize=(1.9 * len(columns), 1.9 * rows), squeeze=False)
    for j, (name, images) in enumerate(columns.items()):
        for i in range(rows):
            ax = axes[i, j]
            ax.axis("off")
            if i < len(images):
                image = np.asarray(images[i], dtype=float)
                ax.imshow(image if rows_first else image.T, cmap=cmap)
        axes[0, j].set_title(name, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return _save(fig, png)


def plot_claims(report: Mapping, png: str | Path) -> Path | None:
    """One bar pair per claim: arm vs baseline mean ± sd over seeds, titled with the verdict."""
    claims = report.get("claims", [])
    if not claims:
        return None
    fig, axes = _panels(len(claims), max_cols=4, panel_size=(3.2, 2.8))
    for ax, c in zip(axes.flat, claims):
        means = [c["arm_mean"], c["baseline_mean"]]
        sds = [c["arm_sd"] or 0.0, c["baseline_sd"] or 0.0]
        colours = ["tab:green" if c["holds"] else "tab:red", "tab:gray"]
        ax.bar([0, 1], [m if m is not None else np.nan for m in means], yerr=sds, color=colours, capsize=3)
        ax.set_xticks([0, 1], [c["arm"], c["baseline"]], fontsize=7, rotation=15)
        ax.set_title(f"{c['metric']}: {'holds' if c['holds'] else 'does not hold'}", fontsize=8)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(f"{report['bundle']}: claims (mean ± sd over seeds {report['seeds']})", fontsize=10)
    return _save(fig, png)


def _panels(count: int, max_cols: int, panel_size: tuple[float, float]) -> tuple[plt.Figure, np.ndarray]:
    """A figure with ``count`` panels in rows of at most ``max_cols``; the unused panels are hidden."""
    cols = min(max_cols, count)
    rows = -(-count // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(panel_size[0] * cols, panel_size[1] * rows), squeeze=False)
    for ax in list(axes.flat)[count:]:
        ax.axis("off")
    return fig, axes


def _save(fig: plt.Figure, png: str | Path) -> Path:
    png = Path(png)
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return png
