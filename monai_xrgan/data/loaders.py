"""A data loader that never loses an error: a bad item stops the run naming its file, item and split, or is skipped
and counted when the config says so."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from monai.data import ThreadDataLoader, list_data_collate
from monai.data.thread_buffer import buffer_iterator
from torch.utils.data import Dataset

from monai_xrgan.data.datalists import PATH_KEYS
from monai_xrgan.utils.checks import require_flag
from monai_xrgan.utils.errors import InputFileError, find_user_error, one_line

__all__ = ["BadImageError", "BadItem", "GuardedDataLoader"]

logger = logging.getLogger(__name__)


class BadImageError(InputFileError):
    """A datalist item could not be loaded or preprocessed."""


class BadItem:
    """What a dataset item became when loading it failed: where it is and why (returned instead of raised, so that
    the decision to stop or skip is taken once, in the main process, for every worker and thread)."""

    def __init__(self, split: str, index: int, files: Sequence[str], reason: str) -> None:
        self.split, self.index, self.files, self.reason = split, index, list(files), reason

    def __str__(self) -> str:
        return f"{', '.join(self.files) or 'an item'} ({self.split}[{self.index}]): {self.reason}"


class _Raised:
    """An exception of the loader thread, carried to the main thread (MONAI's ``ThreadBuffer`` drops them)."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


class _GuardedDataset(Dataset):
    """``dataset`` whose failing items come back as :class:`BadItem` instead of raising."""

    def __init__(self, dataset: Any, split: str) -> None:
        self.dataset, self.split = dataset, split

    def __len__(self) -> int:
        return len(self.dataset)

    def __getattr__(self, name: str) -> Any:  # ``data``, ``transform``... of the wrapped dataset
        if name == "dataset":  # not set yet (unpickling in a worker)
            raise AttributeError(name)
        return getattr(self.dataset, name)

    def __getitem__(self, index: int) -> Any:
        try:
            return self.dataset[index]
        except Exception as e:  # any failure of reading or preprocessing one item
            data = getattr(self.dataset, "data", None)
            item = data[index] if isinstance(data, Sequence) and index < len(data) else {}
            files = [str(item[k]) for k in PATH_KEYS if isinstance(item, dict) and k in item]
            cause = find_user_error(e) or _root_cause(e)
            return BadItem(self.split, index, files, one_line(cause, 300))


def _root_cause(error: BaseException) -> BaseException:
    # MONAI wraps a transform's error in "applying transform ..." RuntimeErrors; the innermost one says what is wrong
    while (error.__cause__ or error.__context__) is not None:
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
    return error


def _guarded(source: Iterator[Any]) -> Iterator[Any]:
    try:
        yield from source
    except Exception as e:  # noqa: BLE001 - re-raised in the main thread
        yield _Raised(e)


class GuardedDataLoader(ThreadDataLoader):
    """MONAI ``ThreadDataLoader`` that stops on a bad item with one line naming its file, item and split.

    MONAI's ``ThreadBuffer`` thread dies silently on an exception, which ends the epoch early and lets the run "finish".
    Here every item that fails to load or preprocess (in the buffer thread or in a worker process) becomes a
    :class:`BadItem`; the main thread then raises :class:`BadImageError`, or with ``skip_bad_images`` logs a warning
    per skipped item and the count at the end of each pass ("skipped 2 of 16 training items this epoch"). Any other
    exception of the buffer thread is re-raised in the main thread.

    Args:
        dataset: a map-style dataset, usually a MONAI ``Dataset``/``CacheDataset`` whose ``data`` are datalist items.
        split: name of the datalist split, for the messages.
        skip_bad_images: skip bad items instead of stopping.
        collate_fn: collates the good items of a batch, default MONAI's ``list_data_collate``.
        kwargs: the other arguments of ``ThreadDataLoader`` / ``DataLoader``.
    """

    def __init__(
        self,
        dataset: Any,
        split: str = "training",
        skip_bad_images: bool = False,
        collate_fn: Callable | None = None,
        **kwargs: Any,
    ) -> None:
        self.split = split
        self.skip_bad_images = require_flag(skip_bad_images, "skip_bad_images")
        self._collate_good = collate_fn or list_data_collate
        self.skipped: list[BadItem] = []  # the items skipped during the last pass
        super().__init__(_GuardedDataset(dataset, split), collate_fn=self._collate, **kwargs)

    def _collate(self, batch: list[Any]) -> tuple[Any, list[BadItem]]:
        good = [b for b in batch if not isinstance(b, BadItem)]
        return (self._collate_good(good) if good else None), [b for b in batch if isinstance(b, BadItem)]

    def __iter__(self) -> Iterator[Any]:
        self.skipped = []
        source = super(ThreadDataLoader, self).__iter__()
        for value in buffer_iterator(_guarded(source), self.buffer_size, self.buffer_timeout, self.repeats):
            if isinstance(value, _Raised):
                raise value.error
            batch, bad = value
            for item in bad:
                if not self.skip_bad_images:
                    raise BadImageError(f"{item}; fix or remove it from the datalist, or set skip_bad_images True "
                                        "to skip such items.")  # fmt: skip
                self.skipped.append(item)
                logger.warning(f"Skipped {item}.")
            if batch is not None:
                yield batch
        if self.skipped:
            logger.warning(f"skipped {len(self.skipped)} of {len(self.dataset)} {self.split} items this epoch "
                           "(skip_bad_images True).")  # fmt: skip
