"""Run ``python -m <module> ...`` as a separate process that starts with torch, MONAI and monai_xrgan imported.

A fresh interpreter spends ≈ 7 s importing torch and MONAI before a bundle step does anything (most of a small step on
a 2-core machine). :func:`run_module` instead forks the step from a ``forkserver`` process that imported them once:
the child has its own memory, file descriptors, environment, ``sys.excepthook`` and exit code, as a subprocess has,
and none of the caller's state (threads, logging handlers, CUDA context). Where ``forkserver`` is not available
(Windows), or where the caller's ``__main__`` is a script (multiprocessing would re-import it in each child, re-running
a script without an ``if __name__ == "__main__":`` guard), it runs ``python -m`` as a plain subprocess. The steps are
then not children of the caller: ``/usr/bin/time`` on the caller does not count their CPU time.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import runpy
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["PRELOAD", "run_module"]

#: imported by the fork server before it forks the first child (importing torch does not initialise CUDA)
PRELOAD = ["torch", "ignite.engine", "monai.bundle", "monai.engines", "monai.handlers", "monai_xrgan.bundle",
           "monai_xrgan.engines", "monai_xrgan.handlers", "monai_xrgan.transforms",
           "monai_xrgan.workflows"]  # fmt: skip

_context = (
    multiprocessing.get_context("forkserver") if "forkserver" in multiprocessing.get_all_start_methods() else None
)


def _fork_server_is_safe() -> bool:
    """Whether children of the fork server may start: they import the caller's ``__main__`` unless it is a package's
    ``__main__`` module (``python -m pkg``) or an interactive session, as multiprocessing's spawn does."""
    if _context is None:
        return False
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None:
        return spec.name == "__main__" or spec.name.endswith(".__main__")
    return getattr(main, "__file__", None) is None


def _exit_code(error: SystemExit) -> int:
    if error.code is None or isinstance(error.code, int):
        return error.code or 0
    print(error.code, file=sys.stderr)  # what the interpreter does with sys.exit("message")
    return 1


def _child(module: str, args: Sequence[str], env: Mapping[str, str], log_path: str) -> None:
    """Run ``module`` as ``__main__`` with ``args``, output appended to ``log_path``; exit as the interpreter would."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    sys.stdout.reconfigure(line_buffering=True)
    sys.stderr.reconfigure(line_buffering=True)
    os.environ.clear()
    os.environ.update(env)
    import torch

    if "OMP_NUM_THREADS" in env:  # torch read it when the server imported torch
        torch.set_num_threads(max(1, int(env["OMP_NUM_THREADS"])))
    sys.argv = [module, *args]
    code = 0
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as error:
        code = _exit_code(error)
    except BaseException:  # an uncaught exception: the interpreter's (or the installed) excepthook prints it
        sys.excepthook(*sys.exc_info())
        code = 1
    try:
        atexit._run_exitfuncs()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _forked(module: str, args: list[str], env: dict[str, str], log_path: str, timeout: float | None) -> int:
    _context.set_forkserver_preload(PRELOAD)  # here, not at import: the server is shared by the whole process
    process = _context.Process(target=_child, args=(module, args, env, log_path))
    process.start()
    process.join(timeout)
    if process.exitcode is None:
        process.kill()
        process.join()
        raise subprocess.TimeoutExpired([sys.executable, "-m", module, *args], timeout)
    return process.exitcode


def run_module(module: str, args: Sequence[object], env: Mapping[str, str] | None = None, timeout: float | None = None,
               log_path: str | os.PathLike | None = None) -> subprocess.CompletedProcess:  # fmt: skip
    """``python -m module *args`` with stdout and stderr merged, in a process forked from the preloaded server.

    Args:
        module: the module run as ``__main__`` (e.g. ``monai.bundle``).
        args: its command-line arguments.
        env: its environment (default ``os.environ``).
        timeout: seconds before it is killed and ``subprocess.TimeoutExpired`` is raised (default: no limit).
        log_path: a file the output is appended to; then ``stdout`` of the result is ``None``.

    Returns:
        a ``CompletedProcess`` with the command, ``returncode`` (``-N`` when killed by signal ``N``) and the output.
    """
    args = [str(a) for a in args]
    command = [sys.executable, "-m", module, *args]
    env = dict(os.environ if env is None else env)
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(log_path) if log_path is not None else Path(tmp) / "output.log"
        if not _fork_server_is_safe():
            with open(target, "a", encoding="utf-8") as log:
                code = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, env=env, timeout=timeout,
                                      stdin=subprocess.DEVNULL).returncode  # fmt: skip
        else:
            code = _forked(module, args, env, str(target), timeout)
        output = None if log_path is not None else target.read_text(encoding="utf-8", errors="replace")
    return subprocess.CompletedProcess(command, code, stdout=output)
