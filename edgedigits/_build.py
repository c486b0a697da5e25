"""cffi out-of-line API-mode builder for edgedigits._core (named in setup.py's cffi_modules).

Compiles the C99 sources in csrc/ into the extension. No -march or other flags that tie the
binary to the build machine: the SIMD kernels carry per-function target attributes and are
chosen at run time (csrc/ed_kernel.c), so one build runs everywhere.
"""
import os
import sys

from cffi import FFI

_HERE = os.path.dirname(os.path.abspath(__file__))
_ROOT = os.path.dirname(_HERE)
# Relative to the project root, where setup.py runs: setuptools rejects absolute source paths.
CSRC = "csrc"
SOURCES = [os.path.join(CSRC, name) for name in (
    "ed_model.c", "ed_forward.c", "ed_kernel.c", "kernels/ed_matvec_x86.c", "kernels/ed_matvec_neon.c")]

ffibuilder = FFI()
with open(os.path.join(_HERE, "_core.cdef")) as f:
    ffibuilder.cdef(f.read())

ffibuilder.set_source(
    "edgedigits._core",
    '#include "edgedigits.h"',
    sources=SOURCES,
    include_dirs=[CSRC],
    extra_compile_args=[] if sys.platform == "win32" else ["-std=c99", "-O2"],
)

if __name__ == "__main__":
    os.chdir(_ROOT)
    ffibuilder.compile(verbose=True)
