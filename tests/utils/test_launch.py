"""run_module: a forked ``python -m`` keeps a subprocess's exit code, output, environment and excepthook."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from monai_xrgan.utils.launch import run_module

SCRIPT = """
import os, sys
print("argv", sys.argv[1:], "env", os.environ.get("XRGAN_LAUNCH_TEST"))
mode = sys.argv[1]
if mode == "raise":
    raise RuntimeError("boom")
if mode == "hook":
    sys.excepthook = lambda *exc: print("hooked:", exc[1])
    raise ValueError("bad value")
if mode == "kill":
    os.kill(os.getpid(), 9)
if mode == "sleep":
    import time; time.sleep(30)
sys.exit(int(mode))
"""


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    """A module ``launch_probe`` on the path of the fork server's children."""
    folder = tmp_path_factory.mktemp("probe")
    (folder / "launch_probe.py").write_text(SCRIPT)
    sys.path.insert(0, str(folder))  # the children get the caller's sys.path
    yield "launch_probe"
    sys.path.remove(str(folder))


@pytest.mark.parametrize("mode, code", [("0", 0), ("3", 3)])
def test_exit_code_output_and_environment(module, mode, code):
    result = run_module(module, [mode], env={"XRGAN_LAUNCH_TEST": "yes", "PATH": "/usr/bin"})
    assert result.returncode == code
    assert f"argv ['{mode}'] env yes" in result.stdout


def test_an_uncaught_exception_is_printed_by_the_excepthook(module):
    plain = run_module(module, ["raise"])
    assert plain.returncode == 1 and "Traceback" in plain.stdout and "RuntimeError: boom" in plain.stdout
    hooked = run_module(module, ["hook"])
    assert hooked.returncode == 1 and "hooked: bad value" in hooked.stdout and "Traceback" not in hooked.stdout


def test_a_killed_child_reports_the_signal_and_a_timeout_raises(module, tmp_path):
    assert run_module(module, ["kill"]).returncode == -signal.SIGKILL
    with pytest.raises(subprocess.TimeoutExpired):
        run_module(module, ["sleep"], timeout=2)
    log = tmp_path / "step.log"
    log.write_text("header\n")
    result = run_module(module, ["0"], log_path=log)
    assert result.stdout is None and log.read_text().startswith("header\nargv ['0']")


def test_a_script_without_a_main_guard_runs_its_steps_once(module, tmp_path):
    # children of the fork server would re-import such a script; run_module falls back to a plain subprocess
    script = tmp_path / "no_guard.py"
    script.write_text("from monai_xrgan.utils.launch import run_module\n"
                      f"print('outer', run_module({module!r}, ['0']).returncode)\n")  # fmt: skip
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("outer 0") == 1
