"""The MONAI Label app: one infer task per bundle named by ``--conf models`` (see :mod:`monai_xrgan.label.conf`)."""

from __future__ import annotations

import logging
import os
from typing import Any

from monailabel.interfaces.app import MONAILabelApp
from monailabel.interfaces.exception import ImageNotFoundException, MONAILabelError, MONAILabelException
from monailabel.interfaces.tasks.infer_v2 import InferTask
from monailabel.utils.others.generic import strtobool

import monai_xrgan
from monai_xrgan.label.conf import bundles_to_serve
from monai_xrgan.label.tasks import BundleImageTask, create_task

__all__ = ["ModelNotServedError", "XRGANLabelApp"]

logger = logging.getLogger(__name__)


class ModelNotServedError(MONAILabelException):
    """An infer request names a model the server does not serve (unknown, or without trained weights)."""

    def __init__(self, msg: str) -> None:
        super().__init__(MONAILabelError.INVALID_INPUT, msg)


class XRGANLabelApp(MONAILabelApp):
    """Serves the monai_xrgan bundles: ``monailabel start_server --app <app folder> --studies <images>
    --uvicorn_app monai_xrgan.label.server:app --conf models pix2pix_cxr``.

    ``--conf`` options: ``models``, ``bundles_dir`` and ``<bundle>#<config id>`` overrides (see
    :mod:`monai_xrgan.label.conf`), and ``preload true`` to load every network at start-up. Bundles without
    trained weights are not served; the server log says how to train them.

    Args:
        app_dir: the app folder (MONAI Label writes ``logs/`` and ``model/`` there).
        studies: folder of images (or a DICOMweb URL), MONAI Label's datastore.
        conf: the ``--conf`` key/value pairs.
    """

    def __init__(self, app_dir: str, studies: str, conf: dict[str, str]) -> None:
        self.bundles = bundles_to_serve(app_dir, conf)
        super().__init__(
            app_dir=app_dir,
            studies=studies,
            conf=conf,
            name="monai_xrgan",
            description="Generative chest X-ray / CT models of the monai_xrgan bundles",
            version=monai_xrgan.__version__,
        )

    def init_infers(self) -> dict[str, InferTask]:
        preload = strtobool(self.conf.get("preload", "false"))
        infers: dict[str, InferTask] = {}
        for bundle in self.bundles:
            task = create_task(bundle, preload=preload)
            if task.is_valid():
                logger.info(
                    "+++ serving %s (%s) from %s with weights %s", bundle.name, task.kind, bundle.path, task.weights
                )
            else:
                logger.warning("--- not serving %s", task.missing_weights_message())
            infers[bundle.name] = task
        return infers

    def infer(self, request: dict[str, Any], datastore: Any = None) -> dict[str, Any]:
        """MONAI Label's ``infer``, refusing unknown or untrained models and unknown images with a clear message."""
        model = request.get("model")
        task = self._infers.get(model)
        if not isinstance(task, BundleImageTask):
            served = [name for name, t in self._infers.items() if t.is_valid()]
            raise ModelNotServedError(
                f"model {model!r} is not served; served models: {served} (start the server with --conf models <names>)."
            )
        if not task.is_valid():
            raise ModelNotServedError(task.missing_weights_message())
        image = request.get("image")
        store = datastore or self.datastore()
        if isinstance(image, str) and not os.path.exists(image) and not store.get_image_uri(image):
            raise ImageNotFoundException(
                f"image {image!r} is neither a file on the server nor an image id of the studies {self.studies}; "
                "upload the file or use an id listed by /datastore/."
            )
        return super().infer(request, datastore)
