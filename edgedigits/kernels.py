"""Which int8 matvec kernel the C core uses (csrc/ed_kernel.c), and which this machine has.

The C core picks the fastest kernel the CPU supports when it loads a model; the environment
variable EDGEDIGITS_KERNEL (portable|avx2|vnni|neon|neon_dot) forces one, and loading a model
then fails with a clear error if this build or CPU lacks it. Every kernel is bit-exact with
the portable loop, so the choice changes speed, never results.
"""
from __future__ import annotations

import os

from ._core import ffi, lib

KERNEL_ENV = "EDGEDIGITS_KERNEL"
KERNELS = tuple(ffi.string(lib.ed_kernel_name(k)).decode() for k in range(lib.ED_KERNEL_COUNT))


def kernel_id(name: str) -> int:
    """The C enum value of a kernel name."""
    if name not in KERNELS:
        raise ValueError(f"unknown kernel {name!r}: expected one of {', '.join(KERNELS)}")
    return KERNELS.index(name)


def supported_kernels() -> list[str]:
    """Kernels compiled into this build that this CPU can run, portable first."""
    return [name for k, name in enumerate(KERNELS) if lib.ed_kernel_supported(k)]


def best_kernel() -> str:
    """The fastest supported kernel (what is used when EDGEDIGITS_KERNEL is unset)."""
    return KERNELS[lib.ed_kernel_best()]


def kernel_name() -> str:
    """The kernel a model loaded now will use: EDGEDIGITS_KERNEL if set, else the best.

    Raises ValueError naming the supported kernels if EDGEDIGITS_KERNEL is unknown or
    unsupported here.
    """
    out = ffi.new("ed_kernel *")
    if lib.ed_kernel_select(out) != lib.ED_OK:
        raise ValueError(f"{KERNEL_ENV}={os.environ.get(KERNEL_ENV)!r} is not a kernel this build "
                         f"and CPU support: expected one of {', '.join(supported_kernels())}")
    return KERNELS[out[0]]
