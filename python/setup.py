"""Builds the proberows extension over the repository's libproberows (see README.md).

The C library is built first by the repository's Makefile as a position-independent static
library (build/pic/libproberows.a, `make pic`), then linked into proberows/_proberows.
Nothing is downloaded: it needs Debian's python3-dev, python3-numpy, python3-setuptools and
the library's own build dependencies (make deps).
"""
import os
import shlex
import subprocess
import sys

import numpy
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
# PRW_SAN=asan: library and extension under ASan+UBSan (tests/cli/python.cmd in make check
# SAN=asan; the interpreter then needs LD_PRELOAD of libasan and libubsan).
SAN = os.environ.get("PRW_SAN", "")
if SAN not in ("", "asan"):
    sys.exit(f"proberows: PRW_SAN must be empty or asan, not {SAN!r}")
LIB = os.path.join(ROOT, "build", "pic-asan" if SAN else "pic", "libproberows.a")
SAN_FLAGS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer",
             "-g"] if SAN else []
PKGS = "libzstd snappy libbrotlienc libbrotlidec liblz4 libdeflate zlib libmd"


def pkg_libs():
    try:
        out = subprocess.run(["pkg-config", "--libs"] + PKGS.split(), check=True,
                             capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        sys.exit(f"proberows: pkg-config cannot find the library's dependencies ({e}); "
                 "run `make deps` in the repository")
    return shlex.split(out) + ["-lhighwayhash", "-lbz2", "-lstdc++", "-lpthread", "-lm"]


class BuildWithLib(build_ext):
    """Runs `make pic` in the repository before compiling the extension."""

    def run(self):
        jobs = os.environ.get("PRW_MAKE_JOBS", "2")
        subprocess.run(["make", "-C", ROOT, f"-j{jobs}", "pic", f"SAN={SAN}"], check=True)
        super().run()


ext = Extension(
    "proberows._proberows",
    sources=[os.path.join("src", f) for f in
             ("py_module.c", "py_reader.c", "py_writer.c", "py_row.c", "py_build.c")],
    include_dirs=[os.path.join(ROOT, "include"), numpy.get_include()],
    extra_objects=[LIB],
    depends=[LIB] + [os.path.join("src", "py_internal.h")],
    extra_compile_args=["-std=c17", "-Wall", "-Wextra", "-Wno-missing-field-initializers",
                        "-D_POSIX_C_SOURCE=200809L"] + SAN_FLAGS
    + (["-Werror"] if os.environ.get("WERROR") == "1" else []),
    extra_link_args=pkg_libs() + SAN_FLAGS,
)

setup(
    name="proberows",
    version="0.1.0",
    description="Fast readers of proberows' output (ArrayRecord + Arrow IPC rows) and the build",
    packages=["proberows"],
    package_data={"proberows": ["__init__.pyi", "py.typed"]},
    ext_modules=[ext],
    cmdclass={"build_ext": BuildWithLib},
    python_requires=">=3.9",
    install_requires=["numpy"],
)
