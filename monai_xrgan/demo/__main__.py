"""``python -m monai_xrgan.demo --task TASK --out DIR``: write a demo dataset (see :mod:`monai_xrgan.demo.datasets`)."""

from monai_xrgan.demo.datasets import main

if __name__ == "__main__":
    main()
