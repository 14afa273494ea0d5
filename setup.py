"""Build the one extension, solar._core, from the C11 sources under csrc/.

Files named *_avx2.c / *_avx512.c are compiled with their own target flags (and only on
x86-64); everything else is portable C11. The choice between them is made at run time
(csrc/runtime/cpu.c), so one build runs on any x86-64 machine.

Environment knobs (for developers):
  SOLAR_NATIVE=1     add -march=native to the portable files (opt-in, not needed for speed)
  SOLAR_SANITIZE=1   build with AddressSanitizer + UndefinedBehaviorSanitizer
  SOLAR_DEBUG=1      -O0 -g
"""
import os
import platform
import sys
from glob import glob

import numpy
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = os.path.dirname(os.path.abspath(__file__))
IS_X86 = platform.machine().lower() in ("x86_64", "amd64", "i686", "x86")

ISA_FLAGS = {
    "_avx2.c": ["-mavx2", "-mfma", "-mf16c"],
    "_avx512.c": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-mavx512dq", "-mavx512vnni",
                  "-mavx2", "-mfma", "-mf16c"],
}


def _isa_suffix(path):
    for suffix in ISA_FLAGS:
        if path.endswith(suffix):
            return suffix
    return None


def _base_flags():
    flags = ["-std=c11", "-fopenmp", "-Wall", "-Wextra", "-Wno-unused-parameter",
             "-fno-strict-aliasing", "-D_GNU_SOURCE"]
    if os.environ.get("SOLAR_DEBUG"):
        flags += ["-O0", "-g"]
    else:
        flags += ["-O3"]
    if os.environ.get("SOLAR_SANITIZE"):
        flags += ["-fsanitize=address,undefined", "-fno-omit-frame-pointer", "-g"]
    return flags


class BuildExt(build_ext):
    """Compile ISA-specific files with their own flags, then link everything together."""

    def build_extension(self, ext):
        base = _base_flags()
        isa_sources = [s for s in ext.sources if _isa_suffix(s)]
        ext.sources = [s for s in ext.sources if not _isa_suffix(s)]
        objects = []
        for suffix, flags in ISA_FLAGS.items():
            group = [s for s in isa_sources if s.endswith(suffix)]
            if group and IS_X86:
                objects += self.compiler.compile(
                    group, output_dir=self.build_temp, include_dirs=ext.include_dirs,
                    extra_postargs=base + flags, depends=ext.depends)
        ext.extra_objects = objects + list(ext.extra_objects or [])
        native = ["-march=native"] if os.environ.get("SOLAR_NATIVE") else []
        ext.extra_compile_args = base + native
        super().build_extension(ext)


def _sources():
    files = sorted(glob(os.path.join("csrc", "**", "*.c"), recursive=True))
    return [f for f in files if "/tools/" not in f.replace(os.sep, "/")]


link_args = ["-fopenmp", "-lm"]
if os.environ.get("SOLAR_SANITIZE"):
    link_args += ["-fsanitize=address,undefined"]

core = Extension(
    "solar._core",
    sources=_sources(),
    include_dirs=["csrc/include", "csrc", numpy.get_include()],
    # the ISA files leave ext.sources at build time: list them here so a change to one rebuilds
    depends=sorted(glob(os.path.join("csrc", "**", "*.h"), recursive=True)) + [s for s in _sources() if _isa_suffix(s)],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_20_API_VERSION"),
                   ("SL_HAVE_X86", "1" if IS_X86 else "0")],
    extra_link_args=link_args,
)

setup(ext_modules=[core], cmdclass={"build_ext": BuildExt})
