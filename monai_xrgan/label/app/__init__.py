"""The MONAI Label app folder (MONAI Label loads its ``main.py``); a package only so that wheels ship it."""
