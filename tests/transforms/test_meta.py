import torch
from monai.data import MetaTensor

from monai_xrgan.transforms.meta import source_meta


def _image(**meta):
    return MetaTensor(torch.zeros(1, 2, 2), meta=dict(meta))


def test_an_output_with_the_marker_keeps_its_own_metadata():
    data = {"pred": _image(fmt="png", name="pred"), "image": _image(fmt="dicom", name="image")}
    assert source_meta(data, "pred", "image", "fmt")["name"] == "pred"


def test_an_output_without_the_marker_takes_the_inputs_metadata():
    data = {"pred": torch.zeros(1, 2, 2), "image": _image(fmt="dicom", name="image")}
    assert source_meta(data, "pred", "image", "fmt")["name"] == "image"
    data["pred"] = _image(name="pred")  # a MetaTensor that lost the loader's keys
    assert source_meta(data, "pred", "image", "fmt")["name"] == "image"


def test_no_metadata_when_neither_carries_the_marker():
    data = {"pred": _image(name="pred"), "image": _image(name="image")}
    assert source_meta(data, "pred", "image", "fmt") is None
    assert source_meta({"pred": _image(fmt="png")}, "pred", None, "fmt")["fmt"] == "png"
    assert source_meta({"pred": torch.zeros(1)}, "pred", None, "fmt") is None
