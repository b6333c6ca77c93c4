"""Demo dataset recipes, one module per task; importing this package registers them all in :data:`TASKS`.

A new method adds a module here that builds its dataset through a :class:`DemoWriter` and calls
:func:`register_task`; nothing else changes.
"""

import importlib
import pkgutil

from monai_xrgan.demo.tasks.base import (
    COMMON_DEFAULTS,
    FORMATS,
    TASKS,
    DemoTask,
    DemoWriter,
    check_count,
    register_task,
)

for _module in pkgutil.iter_modules(__path__):
    if _module.name != "base":
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["COMMON_DEFAULTS", "FORMATS", "TASKS", "DemoTask", "DemoWriter", "check_count", "register_task"]
