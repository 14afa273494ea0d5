"""Every ISA level this CPU supports gives the same logits as the generic kernels."""
import os
import subprocess
import sys

import numpy as np
import pytest

import solar
from solar import _core

LEVELS = ["generic", "avx2", "avx512"]
IDS = list(range(1, 40))


def supported():
    best = LEVELS.index(_core.cpu_isa())
    return LEVELS[: best + 1]


@pytest.fixture
def restore_isa():
    before = _core.isa()
    yield
    _core.set_isa(before)


@pytest.mark.parametrize("arch", ["llama", "exaone4_hybrid"])
@pytest.mark.parametrize("dtype", ["f32", "f16", "bf16"])
def test_levels_match_generic(tiny_dir, restore_isa, arch, dtype):
    m = solar.load(tiny_dir(arch, dtype)[0])
    _core.set_isa("generic")
    ref = m.forward(IDS)
    for level in supported()[1:]:
        _core.set_isa(level)
        got = m.forward(IDS)
        rel = np.abs(got - ref).max() / np.abs(ref).max()
        assert rel <= 1e-5, f"{level} vs generic: relative max diff {rel:.3g}"


def test_forcing_a_level_above_the_cpu_is_refused(restore_isa):
    if _core.cpu_isa() == "avx512":
        pytest.skip("this CPU has every level")
    with pytest.raises(solar.UnsupportedError):
        _core.set_isa("avx512")
    with pytest.raises(ValueError):
        _core.set_isa("sse9")


def test_environment_variable_selects_the_level():
    env = dict(os.environ, SOLAR_ISA="generic")
    out = subprocess.run([sys.executable, "-c", "import solar._core as c; print(c.isa())"], env=env,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "generic"
