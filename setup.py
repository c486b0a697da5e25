"""Build: project metadata lives in pyproject.toml; this file only adds the cffi extension."""
from setuptools import setup

setup(cffi_modules=["edgedigits/_build.py:ffibuilder"])
