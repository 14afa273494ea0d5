"""Arguments: bad token ids, context overflow, bad out= arrays raise clear errors."""
import numpy as np
import pytest

import solar


@pytest.fixture(scope="module")
def model(tiny_dir):
    return solar.load(tiny_dir("llama")[0])


@pytest.mark.parametrize("ids", [[-1], [211], [1, 2, 10**9], np.array([3.5])])
def test_out_of_range_or_non_integer_ids_raise(model, ids):
    with pytest.raises(ValueError):
        model.forward(ids)


def test_empty_and_2d_ids_raise(model):
    with pytest.raises(ValueError):
        model.forward([])
    with pytest.raises(ValueError):
        model.forward([[1, 2]])


def test_context_overflow_raises_and_keeps_session(model):
    s = model.new_session(n_ctx=4)
    model.forward([1, 2, 3], session=s)
    with pytest.raises(ValueError, match="context"):
        model.forward([4, 5], session=s)
    assert s.n_past == 3
    model.forward([4], session=s)
    assert s.n_past == 4


def test_bad_out_arrays_raise(model):
    with pytest.raises(ValueError):
        model.forward([1, 2], out=np.empty((2, 5), np.float32))
    with pytest.raises(ValueError):
        model.forward([1, 2], out=np.empty((2, model.n_vocab), np.float64))


def test_bad_arguments_to_load(tmp_path):
    with pytest.raises(FileNotFoundError):
        solar.load(tmp_path / "missing")
    with pytest.raises(ValueError):
        solar.load(tmp_path, n_threads=0)


def test_session_of_another_model_is_refused(model, tiny_dir):
    other = solar.load(tiny_dir("mistral")[0])
    with pytest.raises(ValueError):
        model.forward([1], session=other.new_session(8))
