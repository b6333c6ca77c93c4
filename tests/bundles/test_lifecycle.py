"""The life of every bundle in bundles/: verify, train tiny, pack, serve, download, load, infer, fine-tune, export,
scale out. Parametrised over the bundle folders, so a new bundle is covered as soon as it has a `TINY` entry."""

from __future__ import annotations

import ast
import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import monai
import numpy as np
import pytest
import torch
from ignite.engine import Events
from monai.bundle import ConfigParser
from monai.networks.utils import convert_to_onnx, convert_to_torchscript

from monai_xrgan.bundle import download_bundle, pack_bundle, sha256_of, verify_bundle
from monai_xrgan.demo.datasets import make_demo_dataset
from monai_xrgan.handlers import TrainingCheckpointer, loss_items
from monai_xrgan.handlers.checkpoint import training_networks
from monai_xrgan.utils.errors import ConfigError, InputFileError
from monai_xrgan.utils.launch import run_module

from helpers.bundles import BUNDLES, TINY, bundle_names, run_bundle

pytestmark = pytest.mark.slow
NAMES = bundle_names()


def as_overrides(args: list[str]) -> dict:
    """``["--a#b", "64", ...]`` (command-line form) as a config override dict with Python values."""
    pairs = {}
    for key, value in zip(args[::2], args[1::2]):
        try:
            pairs[key.lstrip("-")] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            pairs[key.lstrip("-")] = value
    return pairs


def config_value(name: str, config: str, key: str):
    return ConfigParser.load_config_file(str(BUNDLES / name / "configs" / config))[key]


@pytest.fixture(scope="module", params=NAMES)
def trained(request, tmp_path_factory):
    """A bundle trained for one tiny epoch on its tiny demo data: (name, bundle root with models/, dataset)."""
    name = request.param
    tiny = TINY[name]
    data = tmp_path_factory.mktemp(f"{name}_data")
    make_demo_dataset(config_value(name, "train.json", "demo_task"), data, **tiny.demo)
    root = tmp_path_factory.mktemp(f"{name}_trained")
    run_bundle(name, ["train.json"], ["--bundle_root", root, "--dataset_dir", data, *tiny.overrides])
    assert (root / "models" / "model.pt").is_file()
    return name, root, data


@pytest.fixture(scope="module")
def http_root(tmp_path_factory):
    """A folder served over HTTP on 127.0.0.1 by a server this test module starts and stops: (folder, base URL)."""
    folder = tmp_path_factory.mktemp("served")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join(timeout=10)


def test_every_bundle_has_tiny_test_settings():
    assert NAMES and set(NAMES) == set(TINY), "add the new bundle to tests/helpers/bundles.py:TINY"


@pytest.mark.parametrize("name", NAMES)
def test_bundle_verifies_like_the_model_zoo(name):
    verify_bundle(BUNDLES / name)


@pytest.mark.parametrize("name", NAMES)
def test_monai_bundle_cli_checks_pass_offline(name):
    configs = BUNDLES / name / "configs"
    for args in (["verify_metadata", "--meta_file", configs / "metadata.json",
                  "--filepath", BUNDLES / "metadata_schema.json"],
                 ["verify_net_in_out", "network_def", "--meta_file", configs / "metadata.json",
                  "--config_file", configs / "inference.json"])[: 1 if TINY[name].extra_inputs else 2]:  # fmt: skip
        result = run_module("monai.bundle", args)
        assert result.returncode == 0, result.stdout[-4000:]
    if TINY[name].extra_inputs:  # the verify_net_in_out command feeds one input: call it with the others here
        extra = {key: torch.rand(*shape) for key, shape in TINY[name].extra_inputs.items()}
        monai.bundle.verify_net_in_out("network_def", meta_file=str(configs / "metadata.json"),
                                       config_file=str(configs / "inference.json"),
                                       extra_forward_args=extra)  # fmt: skip


def test_verify_reports_a_broken_reference(tmp_path):
    bundle = tmp_path / "pix2pix_cxr"
    shutil.copytree(
        BUNDLES / "pix2pix_cxr", bundle, ignore=shutil.ignore_patterns("data", "models", "eval", "runs", "checkpoints")
    )
    config = json.loads((bundle / "configs" / "inference.json").read_text())
    config["dataloader"]["dataset"] = "@no_such_dataset"
    (bundle / "configs" / "inference.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match=r"unresolved references .*dataloader -> @no_such_dataset"):
        verify_bundle(bundle)


def test_pack_serve_download_load_and_infer(trained, http_root, tmp_path):
    name, root, data = trained
    tiny = TINY[name]
    dist = tmp_path / "dist" / name  # what a maintainer publishes: the bundle's files + its trained models/
    shutil.copytree(
        BUNDLES / name, dist, ignore=shutil.ignore_patterns("data", "models", "eval", "runs", "checkpoints")
    )
    shutil.copytree(root / "models", dist / "models")
    served, base_url = http_root
    archive, digest = pack_bundle(dist, served)
    assert pack_bundle(dist, tmp_path / "again")[1] == digest  # reproducible archive
    assert (served / f"{name}.zip.sha256").read_text().split()[0] == digest == sha256_of(archive)

    unpacked = download_bundle(f"{base_url}/{name}.zip", digest, tmp_path / "downloaded")
    assert (unpacked / "models" / "model.pt").is_file() and not list((tmp_path / "downloaded").glob(".*"))
    model = monai.bundle.load(
        name, bundle_dir=tmp_path / "downloaded", workflow_type="inference", net_override=tiny.net_override
    )
    trained_weights = torch.load(root / "models" / "model.pt", weights_only=True)
    for key, value in model.state_dict().items():
        torch.testing.assert_close(value, trained_weights[key])
    out = tmp_path / "outputs"
    run_bundle(
        name,
        ["inference.json"],
        ["--bundle_root", unpacked, "--dataset_dir", data, "--output_dir", out, *tiny.overrides],
    )
    assert any(out.rglob("*.*"))

    # MONAI's own command line accepts the same archive
    result = run_module("monai.bundle", ["download", "--name", name, "--url", f"{base_url}/{name}.zip",
                                         "--bundle_dir", tmp_path / "monai_cli"])  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:]
    assert (tmp_path / "monai_cli" / name / "configs" / "metadata.json").is_file()


def _tiny_archive(path: Path, name: str = "tiny_bundle", extra: dict | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{name}/configs/metadata.json", "{}")
        zf.writestr(f"{name}/models/model.pt", b"0" * 4096)
        for member, content in (extra or {}).items():
            zf.writestr(member, content)
    return path


@pytest.mark.parametrize(
    "case,message",
    [
        ("wrong_hash", "download failed or the archive is not the expected one"),
        ("truncated", "not a valid bundle archive"),
        ("escaping_path", "not a valid bundle archive.*Unsafe path|not a valid bundle archive.*traversal"),
    ],
)
def test_download_refuses_bad_archives_and_leaves_nothing(http_root, tmp_path, case, message):
    served, base_url = http_root
    archive = _tiny_archive(
        served / f"{case}.zip", name=case, extra={"../escaped.txt": "x"} if case == "escaping_path" else None
    )
    if case == "truncated":
        archive.write_bytes(archive.read_bytes()[:-200])
    digest = "0" * 64 if case == "wrong_hash" else sha256_of(archive)
    target = tmp_path / "bundles"
    with pytest.raises(InputFileError, match=message):
        download_bundle(f"{base_url}/{case}.zip", digest, target)
    assert list(target.iterdir()) == []  # no bundle folder, no temporary download or staging folder
    assert not (tmp_path / "escaped.txt").exists()


def _first_iteration_losses(
    name: str, data: Path, root: Path, pretrained: Path | None, load_by_hand: Path | None
) -> dict:
    """Run one training iteration of the bundle in-process and return its losses."""
    parser = ConfigParser()
    parser.read_config(str(BUNDLES / name / "configs" / "train.json"))
    parser.read_meta(str(BUNDLES / name / "configs" / "metadata.json"))
    parser.update({**as_overrides(TINY[name].overrides), "bundle_root": str(root), "dataset_dir": str(data),
                   "pretrained_ckpt": None if pretrained is None else str(pretrained), "num_workers": 0})  # fmt: skip
    parser.get_parsed_content("initialize")
    trainer = parser.get_parsed_content("train#trainer")
    trainer.state.max_epochs, trainer.state.epoch_length = 1, 1
    if load_by_hand is not None:  # what "pretrained_ckpt" must amount to: every exported network loaded
        checkpointer = next(
            h for h in parser.get_parsed_content("train#handlers") if isinstance(h, TrainingCheckpointer)
        )
        networks = training_networks(trainer)
        for stem, network in checkpointer.export.items():
            networks[network].load_state_dict(torch.load(load_by_hand / f"{stem}.pt", weights_only=True))
    losses: dict = {}
    trainer.add_event_handler(Events.ITERATION_COMPLETED(once=1), lambda e: losses.update(loss_items(e.state.output)))
    trainer.run()
    return losses


def test_fine_tune_starts_from_every_pretrained_network(trained, tmp_path, monkeypatch):
    name, root, data = trained
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # the bundle's initialize installs an error hook
    pretrained = root / "models" / "model.pt"
    fine_tune = _first_iteration_losses(name, data, tmp_path / "a", pretrained=pretrained, load_by_hand=None)
    by_hand = _first_iteration_losses(name, data, tmp_path / "b", pretrained=None, load_by_hand=root / "models")
    scratch = _first_iteration_losses(name, data, tmp_path / "c", pretrained=None, load_by_hand=None)
    assert fine_tune.keys() == by_hand.keys() and fine_tune
    for key in fine_tune:
        assert fine_tune[key] == pytest.approx(by_hand[key], rel=1e-5, abs=1e-6), key
    assert any(fine_tune[k] != pytest.approx(scratch[k], rel=1e-3) for k in fine_tune)  # the test can fail


def test_fine_tune_refuses_a_checkpoint_of_another_architecture(trained, tmp_path):
    name, root, data = trained
    tiny = TINY[name]
    result = run_bundle(name, ["train.json"], ["--bundle_root", tmp_path, "--dataset_dir", data, *tiny.overrides,
                                               *tiny.wrong_architecture,
                                               "--pretrained_ckpt", root / "models" / "model.pt"],
                        check=False)  # fmt: skip
    assert result.returncode != 0
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("error: ") and "does not fit network" in last and "model.pt" in last, last


def test_torchscript_and_onnx_exports_match_eager(trained, tmp_path):
    name, root, _ = trained
    tiny = TINY[name]
    configs = BUNDLES / name / "configs"
    overrides = [*tiny.overrides, *tiny.deterministic]
    common = [
        "--ckpt_file",
        str(root / "models" / "model.pt"),
        "--meta_file",
        str(configs / "metadata.json"),
        "--config_file",
        str(configs / "inference.json"),
        "--input_shape",
        json.dumps(tiny.input_shape),
        *overrides,
    ]
    formats = {"ckpt_export": tmp_path / "model.ts"}
    if tiny.onnx:
        formats["onnx_export"] = tmp_path / "model.onnx"
    parser = ConfigParser()
    parser.read_config(str(configs / "inference.json"))
    parser.update(as_overrides(overrides))
    eager = parser.get_parsed_content("network_def").eval()
    eager.load_state_dict(torch.load(root / "models" / "model.pt", weights_only=True))
    inputs = [torch.rand(*tiny.input_shape), *(torch.rand(*shape) for shape in tiny.extra_inputs.values())]
    if tiny.extra_inputs:  # the commands feed one input: trace through the converters they call, with every input
        convert_to_torchscript(eager, filename_or_obj=str(formats["ckpt_export"]), inputs=inputs, use_trace=True)
        if tiny.onnx:
            convert_to_onnx(eager, inputs, filename=str(formats["onnx_export"]), use_trace=True)
    for command, path in formats.items() if not tiny.extra_inputs else ():
        result = run_module("monai.bundle", [command, "network_def", "--filepath", path, *common])
        assert result.returncode == 0, result.stdout[-5000:]

    with torch.no_grad():
        expected = eager(*inputs)
        torch.testing.assert_close(torch.jit.load(str(formats["ckpt_export"]))(*inputs), expected, rtol=1e-4, atol=1e-5)
    if tiny.onnx:
        import onnxruntime

        session = onnxruntime.InferenceSession(str(formats["onnx_export"]))
        (onnx_out,) = session.run(None, {i.name: x.numpy() for i, x in zip(session.get_inputs(), inputs)})
        np.testing.assert_allclose(onnx_out, expected.numpy(), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("name", NAMES)
def test_multi_gpu_config_runs_under_torchrun_with_gloo(name, tmp_path_factory):
    """2 CPU processes: the sampler splits the data, weights stay in sync, only rank 0 logs and writes files."""
    tiny = TINY[name]
    data = tmp_path_factory.mktemp(f"{name}_ddp_data")
    make_demo_dataset(config_value(name, "train.json", "demo_task"), data, **tiny.demo)
    root = tmp_path_factory.mktemp(f"{name}_ddp")
    bundle = BUNDLES / name
    save_weights = (
        "$torch.save(@network.module.state_dict(), @bundle_root + '/rank' + str(torch.distributed.get_rank()) + '.pt')"
    )
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        "-m", "monai.bundle", "run",
        "--config_file", f"['{bundle}/configs/train.json','{bundle}/configs/multi_gpu_train.json']",
        "--meta_file", str(bundle / "configs" / "metadata.json"),
        "--logging_file", str(bundle / "configs" / "logging.conf"),
        "--bundle_root", str(root), "--dataset_dir", str(data),
        "--finalize", json.dumps([save_weights, "$torch.distributed.destroy_process_group()"]),
        *tiny.overrides,
    ]  # fmt: skip
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})  # fmt: skip
    assert result.returncode == 0, result.stdout[-5000:]
    iterations = [line for line in result.stdout.splitlines() if ", Iter: " in line]
    assert len(iterations) == tiny.ddp_iterations, "only rank 0 logs, and each rank sees half of the data"
    assert iterations[-1].split(", Iter: ")[1].startswith(f"{tiny.ddp_iterations}/{tiny.ddp_iterations} ")
    rank0, rank1 = (torch.load(root / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    for key, value in rank0.items():
        torch.testing.assert_close(value, rank1[key], msg=key)
    assert [p.name for p in (root / "checkpoints").iterdir()] == ["checkpoint_epoch=1.pt"]
    assert len(list((root / "runs").iterdir())) == 1  # one TensorBoard event file
