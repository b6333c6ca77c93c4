"""End to end: the real ``monailabel start_server`` serving every bundle the app knows that is in bundles/.

Each bundle is trained tiny first (into a temporary ``bundle_root``, never into bundles/), the server is started on
127.0.0.1 with a studies folder of demo images, and /info/ and /infer/<model> are called over HTTP.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from monai.transforms import LoadImage

from monai_xrgan.data import load_datalist
from monai_xrgan.demo.datasets import make_demo_dataset
from monai_xrgan.label import APP_DIR
from monai_xrgan.label.registry import SERVED_BUNDLES

from helpers.bundles import BUNDLES, TINY, bundle_names, run_bundle

if importlib.util.find_spec("monailabel") is None:
    pytest.skip(
        "monailabel is not installed (pip install -e '.[label]' && pip install --no-deps monailabel==0.8.5 "
        "pydicom-seg==0.4.1)",
        allow_module_level=True,
    )

import requests  # noqa: E402  (a runtime dependency of MONAI Label)

pytestmark = pytest.mark.slow
#: the bundles the app serves that exist in bundles/
NAMES = [name for name in SERVED_BUNDLES if name in bundle_names()]
#: keys the answer's JSON has for each task kind
RESULT_KEYS = {"image": set(), "image_class": {"prediction", "label", "score"}, "translation": {"target_domain"}}
STARTUP_TIMEOUT = 120.0


def _config(name: str, config: str) -> dict:
    return json.loads((BUNDLES / name / "configs" / config).read_text())


def _server_overrides(name: str) -> list[str]:
    """The bundle's tiny training overrides that concern inference.json, as ``--conf <bundle>#<id> <value>``."""
    args, inference = TINY[name].overrides, _config(name, "inference.json")
    pairs = [(key.lstrip("-"), value) for key, value in zip(args[::2], args[1::2])]
    return [a for key, value in pairs if key.split("#")[0] in inference for a in ("--conf", f"{name}#{key}", value)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _monailabel_command() -> str:
    beside = Path(sys.executable).with_name("monailabel")
    command = str(beside) if beside.is_file() else shutil.which("monailabel")
    if command is None:
        pytest.fail(f"monailabel is installed but its command is neither beside {sys.executable} nor on PATH")
    return command


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> dict[str, tuple[Path, list[str]]]:
    """Every served bundle trained one tiny epoch: name -> (bundle_root holding models/, test images)."""
    result = {}
    for name in NAMES:
        data = tmp_path_factory.mktemp(f"{name}_data")
        make_demo_dataset(_config(name, "train.json")["demo_task"], data, **TINY[name].demo)
        root = tmp_path_factory.mktemp(f"{name}_trained")
        run_bundle(name, ["train.json"], ["--bundle_root", root, "--dataset_dir", data, *TINY[name].overrides])
        # the model input of a test item: "image", or "lq" of a restoration pair
        images = [
            item.get("image", item.get("lq")) for item in load_datalist(data / "datalist.json", "test", data, keys=())
        ]
        result[name] = (root, images)
    return result


@pytest.fixture(scope="module")
def server(tmp_path_factory, trained) -> Iterator[tuple[str, dict[str, list[Path]]]]:
    """The real `monailabel start_server` on 127.0.0.1 serving every bundle: (base URL, bundle -> its studies).

    The app folder is a copy (MONAI Label writes logs/ and model/ into it), temporary files go to the test's
    folder, and the server's process group is stopped afterwards, also when a test fails.
    """
    root = tmp_path_factory.mktemp("monai_label")
    app = shutil.copytree(APP_DIR, root / "app")
    studies, tmp = root / "studies", root / "tmp"
    studies.mkdir()
    tmp.mkdir()
    conf, served_studies = ["--conf", "models", ",".join(NAMES)], {}
    for name, (bundle_root, images) in trained.items():
        conf += ["--conf", f"{name}#bundle_root", str(bundle_root), *_server_overrides(name)]
        served_studies[name] = [
            Path(shutil.copy(image, studies / f"{name}_{Path(image).name}")) for image in images[:2]
        ]
    port = _free_port()
    command = [
        _monailabel_command(), "start_server", "--app", str(app), "--studies", str(studies),
        "--host", "127.0.0.1", "--port", str(port), "--uvicorn_app", "monai_xrgan.label.server:app", *map(str, conf),
    ]  # fmt: skip
    env = {
        **os.environ,
        "MONAILABEL_PYEXE": sys.executable,
        "TMPDIR": str(tmp),
        "MONAI_LABEL_SESSION_PATH": str(root / "sessions"),
        "OMP_NUM_THREADS": "2",
        "PYTHONUNBUFFERED": "1",
    }
    log_path = root / "server.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(url, process, log_path)
        yield url, served_studies
    finally:
        _stop(process)


def _wait_until_ready(url: str, process: subprocess.Popen, log_path: Path) -> None:
    """Poll /info/ until it answers; fail with the server's log if it exits or is not ready in time."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{log_path.read_text()[-6000:]}")
        try:
            if requests.get(f"{url}/info/", timeout=5).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"the server was not ready after {STARTUP_TIMEOUT:.0f} s:\n{log_path.read_text()[-6000:]}")
        time.sleep(0.5)


def _stop(process: subprocess.Popen) -> None:
    """SIGTERM to the server's process group (MONAI Label shuts down cleanly), SIGKILL if it is still there after
    20 s."""
    for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:  # already gone
            return
        try:
            process.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _study_id(path: Path) -> str:
    """MONAI Label's id of a study file: its name without the extension (``.nii.gz`` included)."""
    return path.name[: -len("".join(path.suffixes))]


def _check_output(content: bytes, suffix: str, source: Path, tmp_path: Path) -> None:
    """The returned image has the source's shape and lies in its intensity range without being constant."""
    path = tmp_path / f"answer{suffix}"
    path.write_bytes(content)
    loader = LoadImage(image_only=True)
    out, inp = np.asarray(loader(path)), np.asarray(loader(source))
    assert out.shape == inp.shape
    assert inp.min() <= out.min() < out.max() <= inp.max()


def test_info_lists_every_bundle(server):
    url, _ = server
    info = requests.get(f"{url}/info/", timeout=30).json()
    assert sorted(info["models"]) == sorted(NAMES)
    for name in NAMES:
        assert info["models"][name]["kind"] == SERVED_BUNDLES[name].kind and info["models"][name]["type"] == "others"
    assert info["datastore"]["total"] == 2 * len(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_infer_a_study_by_id(server, name, tmp_path):
    url, studies = server
    source = studies[name][0]
    answer = requests.post(f"{url}/infer/{name}", params={"image": _study_id(source), "output": "image"}, timeout=120)
    assert answer.status_code == 200, answer.text
    _check_output(answer.content, "".join(source.suffixes), source, tmp_path)


@pytest.mark.parametrize("name", NAMES)
def test_infer_an_uploaded_image(server, name, tmp_path):
    url, studies = server
    source = studies[name][1]
    with open(source, "rb") as f:
        answer = requests.post(f"{url}/infer/{name}", params={"output": "image"}, files={"file": f}, timeout=120)
    assert answer.status_code == 200, answer.text
    _check_output(answer.content, "".join(source.suffixes), source, tmp_path)
    with open(source, "rb") as f:
        result = requests.post(f"{url}/infer/{name}", params={"output": "json"}, files={"file": f}, timeout=120).json()
    assert RESULT_KEYS[SERVED_BUNDLES[name].kind] | {"latencies"} <= set(result)


@pytest.mark.parametrize(
    "model, upload, params, status, message",
    [
        ("no_such_model", None, {"image": "x"}, 404, "'no_such_model' is not served; served models:"),
        (None, ("notes.txt", b"not an image"), {}, 422, "unsupported file type '.txt'"),
        (None, ("scan.png", b"not a png"), {}, 422, "not a readable PNG image"),
        (None, None, {"image": "no_such_study"}, 404, "image 'no_such_study' is neither a file on the server"),
    ],
)
def test_bad_requests_get_an_error_with_a_message_and_the_server_keeps_serving(
    server, model, upload, params, status, message
):
    url, _ = server
    files = {"file": upload} if upload else None
    answer = requests.post(f"{url}/infer/{model or NAMES[0]}", params=params, files=files, timeout=60)
    assert answer.status_code == status and message in answer.json()["detail"], answer.text
    assert requests.get(f"{url}/info/", timeout=30).status_code == 200
