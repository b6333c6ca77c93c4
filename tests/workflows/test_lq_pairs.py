import pytest

from monai_xrgan.utils.errors import MissingInputError
from monai_xrgan.workflows import require_lq_pairs


def test_missing_lq_pairs_name_the_command_that_writes_them(tmp_path):
    datalist = tmp_path / "datalist_lq_munit.json"
    with pytest.raises(MissingInputError, match=r"config `datalist`.*'configs/train_lq_munit.json'\]\"\.$"):
        require_lq_pairs(datalist, "munit")
    datalist.write_text("{}")
    assert require_lq_pairs(datalist, "munit") == str(datalist)
