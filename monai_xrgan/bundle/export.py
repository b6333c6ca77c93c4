"""Export a bundle's served network (``network_def`` of ``inference.json`` with trained weights) to TorchScript or
ONNX and check the exported model against the eager network.

Every network is traced (``use_trace=True``) with all its inputs from ``metadata.json``'s ``network_data_format``
(e.g. a diffusion U-Net's ``(x, timesteps)``): MONAI's ``ckpt_export`` scripts the network or traces it with one
input, which ``DiffusionModelUNet`` (attention blocks are not scriptable, two inputs) does not allow. MONAI's own
verification compares the exported model with eager on the tracing input; a second, fresh sample input then checks
that the export did not freeze anything of the first one.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import torch
from monai.bundle import ConfigParser
from monai.networks.utils import convert_to_onnx, convert_to_torchscript

from monai_xrgan.bundle.verify import further_inputs
from monai_xrgan.utils.errors import ConfigError, MissingInputError
from monai_xrgan.utils.weights import load_network_weights

__all__ = ["FORMATS", "example_inputs", "export_bundle"]

FORMATS = ("torchscript", "onnx")


def _side(value: int | str, image_size: int | None) -> int:
    """A ``spatial_shape`` entry: a number, or an expression such as ``"8*n"`` (the config's ``image_size`` when it
    fits, else the expression at ``n = 1``)."""
    if isinstance(value, int) or str(value).isdigit():
        return int(value)
    multiple = re.fullmatch(r"(\d+)\*n", str(value).replace(" ", ""))
    if multiple is None:
        raise ConfigError(f"network_data_format spatial_shape entry {value!r} is not a number or 'k*n'.")
    k = int(multiple.group(1))
    return image_size if image_size and image_size % k == 0 else k


def example_inputs(metadata: dict, image_size: int | None = None) -> list[torch.Tensor]:
    """One sample value of every input of ``network_def``, in the order of ``network_data_format``'s ``inputs``: the
    first ``(1, num_channels, *spatial_shape)`` uniform in its ``value_range``, the others from
    :func:`~monai_xrgan.bundle.verify.further_inputs`."""
    name, spec = next(iter(metadata["network_data_format"]["inputs"].items()))
    shape = [1, int(spec["num_channels"]), *(_side(s, image_size) for s in spec["spatial_shape"])]
    low, high = spec.get("value_range") or (-1.0, 1.0)
    first = (torch.rand(shape) * (high - low) + low).to(getattr(torch, spec.get("dtype", "float32")))
    return [first, *further_inputs(metadata).values()]


def _exported(fmt: str, filepath: Path) -> Callable[..., torch.Tensor]:
    """The exported model as a function of torch tensors."""
    if fmt == "torchscript":
        return torch.jit.load(str(filepath), map_location="cpu")
    import onnxruntime

    session = onnxruntime.InferenceSession(str(filepath), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    return lambda *xs: torch.from_numpy(session.run(None, dict(zip(names, (x.numpy() for x in xs))))[0])


def export_bundle(
    bundle_dir: str | os.PathLike,
    fmt: str,
    filepath: str | os.PathLike,
    ckpt_file: str | os.PathLike | None = None,
    rtol: float = 1e-4,
    atol: float = 1e-4,
    log: Callable[[str], None] = print,
) -> Path:
    """Export ``network_def`` of the bundle's ``inference.json`` loaded with ``ckpt_file`` (default the bundle's
    ``models/model.pt``) to ``filepath`` as ``fmt`` (one of :data:`FORMATS`); return the written path.

    Raises:
        MissingInputError: no checkpoint.
        ConfigError: unknown format, or the exported model differs from eager on a sample input.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"--format must be one of {FORMATS}, got {fmt!r}.")
    bundle = Path(bundle_dir)
    ckpt = Path(ckpt_file) if ckpt_file is not None else bundle / "models" / "model.pt"
    if not ckpt.is_file():
        raise MissingInputError(f"{ckpt}: checkpoint not found; train the bundle first or pass --ckpt_file CKPT.")
    parser = ConfigParser()
    parser.read_config(str(bundle / "configs" / "inference.json"))
    parser["bundle_root"] = str(bundle)
    metadata = json.loads((bundle / "configs" / "metadata.json").read_text(encoding="utf-8"))
    network = parser.get_parsed_content("network_def").cpu().eval()
    load_network_weights(network, ckpt, name="model")
    image_size = parser.get("image_size")
    inputs = example_inputs(metadata, image_size if isinstance(image_size, int) else None)
    out = Path(filepath)
    out.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        if fmt == "torchscript":
            convert_to_torchscript(network, filename_or_obj=str(out), verify=True, inputs=inputs, device="cpu",
                                   rtol=rtol, atol=atol, use_trace=True)  # fmt: skip
        else:
            names = list(metadata["network_data_format"]["inputs"])
            convert_to_onnx(network, inputs, input_names=names,
                            output_names=list(metadata["network_data_format"]["outputs"]),
                            filename=str(out), verify=True, device="cpu", use_ort=True, rtol=rtol, atol=atol,
                            use_trace=True)  # fmt: skip
        fresh = example_inputs(metadata, image_size if isinstance(image_size, int) else None)
        eager = network(*fresh)
        eager = eager[0] if isinstance(eager, (tuple, list)) else eager
        exported = _exported(fmt, out)(*fresh)
        exported = exported[0] if isinstance(exported, (tuple, list)) else exported
    difference = float((exported - eager).abs().max())
    if not torch.allclose(exported, eager, rtol=rtol, atol=atol):
        raise ConfigError(f"{out}: the exported model differs from eager by up to {difference:.3g} on a new sample "
                          "input; the network has input-dependent control flow that tracing froze.")  # fmt: skip
    log(f"{bundle.name}: exported network_def with {ckpt} to {out} ({fmt}); inputs "
        f"{[tuple(x.shape) for x in inputs]}; max |exported - eager| on a new sample input: "
        f"{difference:.2e}")  # fmt: skip
    return out
