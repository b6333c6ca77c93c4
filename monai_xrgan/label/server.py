"""ASGI app for ``monailabel start_server ... --uvicorn_app monai_xrgan.label.server:app``.

It is MONAI Label's own FastAPI app (``monailabel.app:app``), imported after :mod:`monai_xrgan.label` made
pydicom-seg importable on pydicom 3, with error handlers so that a bad request gets an HTTP error whose JSON body
``{"error": ..., "detail": ...}`` says what is wrong (MONAI Label alone answers ``500 Internal Server Error``):

- unknown or untrained model, image id not in the studies: 404;
- other MONAI Label input errors: 400;
- unusable input (not an image, corrupt file, unknown ``target_domain``...): 422;
- anything else: 500 with the error's first line (the traceback goes to the server log).
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse
from monailabel.app import app
from monailabel.interfaces.exception import (
    ImageNotFoundException,
    LabelNotFoundException,
    MONAILabelError,
    MONAILabelException,
)

from monai_xrgan.label.application import ModelNotServedError
from monai_xrgan.utils.errors import UserInputError, find_user_error

__all__ = ["app"]

_NOT_FOUND = (ModelNotServedError, ImageNotFoundException, LabelNotFoundException)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


async def _monai_label_error(request: Request, exc: MONAILabelException) -> JSONResponse:
    status = 404 if isinstance(exc, _NOT_FOUND) else 400 if exc.error == MONAILabelError.INVALID_INPUT else 500
    return JSONResponse({"error": exc.error.value, "detail": exc.msg}, status_code=status)


async def _user_error(request: Request, exc: UserInputError) -> JSONResponse:
    return JSONResponse({"error": type(exc).__name__, "detail": _first_line(exc)}, status_code=422)


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    user_error = find_user_error(exc)  # MONAI wraps errors raised inside transforms in RuntimeErrors
    if user_error is not None:
        return await _user_error(request, user_error)
    return JSONResponse({"error": type(exc).__name__, "detail": _first_line(exc)}, status_code=500)


app.add_exception_handler(MONAILabelException, _monai_label_error)
app.add_exception_handler(UserInputError, _user_error)
app.add_exception_handler(Exception, _unexpected_error)
