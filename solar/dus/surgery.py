"""Layer surgery: passthrough stacking of half-open layer ranges, SOLAR's DUS recipe, and
mergekit passthrough YAML configs. The new model's layers are the sources' memory."""
from __future__ import annotations

import os
from typing import Callable, Sequence

from .. import _core
from ..model import Model

Slice = tuple  # (Model, start, end)


def _check_slice(i: int, sl) -> tuple[Model, int, int]:
    if not isinstance(sl, (tuple, list)) or len(sl) != 3:
        raise ValueError(f"slice {i}: expected (model, start, end), got {sl!r}")
    model, start, end = sl
    if not isinstance(model, Model):
        raise ValueError(f"slice {i}: {model!r} is not a solar.Model")
    for v in (start, end):
        if not isinstance(v, int) or isinstance(v, bool):
            raise ValueError(f"slice {i} ({start!r}, {end!r}): bounds must be ints")
    if not 0 <= start < end <= model.n_layers:
        raise ValueError(f"slice {i} [{start}, {end}) is empty or outside the model's {model.n_layers} layers")
    return model, start, end


def _check_shapes(slices: list[tuple[Model, int, int]]) -> None:
    keys = ("arch", "n_embd", "n_head", "n_head_kv", "head_dim", "n_ff", "n_vocab")
    first = slices[0][0].config
    for i, (m, start, end) in enumerate(slices[1:], 1):
        diff = [k for k in keys if m.config[k] != first[k]]
        if diff:
            raise ValueError(f"slice {i} [{start}, {end}): its model differs from slice 0's in "
                             + ", ".join(f"{k} ({m.config[k]} vs {first[k]})" for k in diff))


def _scaled_hf_config(src: Model, result_core, n_layers: int) -> dict:
    cfg = dict(src.hf_config)
    for key in ("num_hidden_layers", "num_layers", "n_layer"):
        if key in cfg:
            cfg[key] = n_layers
    if not any(k in cfg for k in ("num_hidden_layers", "num_layers", "n_layer")):
        cfg["num_hidden_layers"] = n_layers
    layer_types = result_core.hparams.get("layer_types")
    if "layer_types" in cfg or "sliding_window_pattern" in cfg:   # a per-layer pattern must follow the layers
        cfg["layer_types"] = layer_types if layer_types is not None else ["full_attention"] * n_layers
    return cfg


def passthrough(slices: Sequence[Slice], *, n_threads: int | None = None) -> Model:
    """Stack half-open layer ranges ``[(model, start, end), ...]`` into a new model.

    Same semantics as mergekit's passthrough ``layer_range``. Embeddings, final norm and LM head
    come from the first slice's model. No weight is copied: the result's tensors are views of
    the sources' memory, and the sources stay usable.
    """
    if not isinstance(slices, (list, tuple)) or not slices:
        raise ValueError("passthrough needs a non-empty list of (model, start, end) slices")
    checked = [_check_slice(i, s) for i, s in enumerate(slices)]
    _check_shapes(checked)
    first = checked[0][0]
    core = _core.passthrough([(m._core, a, b) for m, a, b in checked], n_threads or first.n_threads)
    desc = " + ".join(f"{os.path.basename(str(m.path)) or 'model'}[{a}:{b}]" for m, a, b in checked)
    out = Model(core, tokenizer=first.tokenizer, source=f"passthrough({desc})")
    out.hf_config = _scaled_hf_config(first, core, core.hparams["n_layers"])
    out.dus_slices = [(m, a, b) for m, a, b in checked]
    out.files_from = getattr(first, "files_from", first.path)
    return out


def depth_up_scale(model: Model, m: int, *, n_threads: int | None = None) -> Model:
    """SOLAR's recipe: layers [0, n-m) of one copy then [m, n) of another -> 2(n-m) layers."""
    n = model.n_layers
    if not isinstance(m, int) or isinstance(m, bool) or not 0 < m < n:
        raise ValueError(f"m must be an int in [1, {n - 1}] for a {n}-layer model, got {m!r}")
    return passthrough([(model, 0, n - m), (model, m, n)], n_threads=n_threads)


def _parse_yaml(text: str) -> dict:
    try:
        import yaml
    except ImportError:
        raise ImportError("from_mergekit_yaml needs PyYAML: pip install pyyaml") from None
    cfg = yaml.safe_load(text)
    if not isinstance(cfg, dict):
        raise ValueError("a mergekit config must be a mapping")
    return cfg


def _yaml_slices(cfg: dict) -> list[tuple[str, int, int]]:
    method = cfg.get("merge_method", "passthrough")
    if method != "passthrough":
        raise ValueError(f"only merge_method: passthrough is supported, got {method!r}")
    slices = cfg.get("slices")
    if not isinstance(slices, list) or not slices:
        raise ValueError("the config has no 'slices' list")
    out = []
    for i, s in enumerate(slices):
        sources = s.get("sources") if isinstance(s, dict) else None
        if not isinstance(sources, list) or len(sources) != 1:
            raise ValueError(f"slice {i}: passthrough needs exactly one source per slice")
        src = sources[0]
        rng = src.get("layer_range") if isinstance(src, dict) else None
        if not isinstance(rng, list) or len(rng) != 2 or "model" not in src:
            raise ValueError(f"slice {i}: a source needs 'model' and 'layer_range: [start, end]'")
        out.append((str(src["model"]), rng[0], rng[1]))
    return out


def from_mergekit_yaml(path_or_str: str | os.PathLike, resolve: Callable[[str], Model] | None = None,
                       *, n_threads: int | None = None) -> Model:
    """Build the model a mergekit passthrough config describes.

    ``resolve`` maps each ``model:`` name to a loaded :class:`Model` (default: load it as a path,
    once per distinct name).
    """
    text = str(path_or_str)
    if os.path.exists(text):
        with open(text, encoding="utf-8") as f:
            text = f.read()
    spec = _yaml_slices(_parse_yaml(text))
    cache: dict[str, Model] = {}

    def get(name: str) -> Model:
        if name not in cache:
            if resolve is not None:
                cache[name] = resolve(name)
            else:
                from ..model import load
                cache[name] = load(name, n_threads=n_threads)
        return cache[name]

    return passthrough([(get(name), a, b) for name, a, b in spec], n_threads=n_threads)
