"""NumPy twin of the C sampler (csrc/sampler/): the oracle the sampler tests compare against.

Written from the documented semantics (llama.cpp's default chain), not from our C code:
logit bias -> penalties over the window -> greedy | top-k -> top-p -> min-p -> temperature.
Parameters are rounded to float32 first, as the C side stores them.
"""
import numpy as np

F32 = np.float32


def splitmix64_words(seed, n=4):
    """The first n outputs of splitmix64 (Steele, Lea & Flood) from seed."""
    mask = (1 << 64) - 1
    x, out = seed & mask, []
    for _ in range(n):
        x = (x + 0x9E3779B97F4A7C15) & mask
        z = x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & mask
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & mask
        out.append(z ^ (z >> 31))
    return out


def numpy_generator(seed):
    """NumPy's PCG64 put in the state our sampler derives from `seed`."""
    w = splitmix64_words(seed)
    bg = np.random.PCG64()
    bg.state = {"bit_generator": "PCG64", "state": {"state": (w[0] << 64) | w[1], "inc": (w[2] << 64) | w[3] | 1},
                "has_uint32": 0, "uinteger": 0}
    return np.random.Generator(bg)


def apply_penalties(logits, window, repeat=1.0, presence=0.0, frequency=0.0, bias=None):
    """logits (V,) float32 -> biased + penalised float32 copy (llama.cpp semantics)."""
    x = np.array(logits, dtype=F32)
    for tid, b in (bias or {}).items():
        x[tid] = F32(x[tid] + F32(b))
    repeat, presence, frequency = F32(repeat), F32(presence), F32(frequency)
    ids, counts = np.unique(np.asarray(window, dtype=np.int64), return_counts=True)
    for tid, c in zip(ids, counts):
        v = x[tid]
        if repeat != F32(1):
            v = F32(v * repeat) if v <= 0 else F32(v / repeat)
        v = F32(v - F32(F32(c) * frequency + presence))
        x[tid] = v
    return x


def kept_weights(x, temperature, top_k, top_p, min_p):
    """(order, weights): the kept ids in the order the sampler walks them, and their
    unnormalised weights exp((l - lmax) / T).

    Greedy (temperature <= 0) gives the first argmax with weight 1. The walk order is rank
    order (descending logit, ascending id) when top-k or top-p sorted the candidates, else id order.
    """
    x = np.asarray(x, dtype=F32)
    V = x.shape[0]
    if F32(temperature) <= 0:
        return np.array([int(np.argmax(x))]), np.array([1.0])
    finite = np.nonzero(~np.isneginf(x))[0]
    rank = finite[np.lexsort((finite, -x[finite].astype(np.float64)))]
    sorted_ = False
    cand = finite
    if 0 < top_k < V:
        cand, sorted_ = rank[:top_k], True
    lmax = float(x[cand].max())
    w = np.exp(x[cand].astype(np.float64) - lmax)
    z = w.sum()
    if F32(min_p) > 0:
        keep = w >= float(F32(min_p))
        cand, w = cand[keep], w[keep]
    if F32(top_p) < 1:
        if not sorted_:
            order = np.lexsort((cand, -x[cand].astype(np.float64)))
            cand, w = cand[order], w[order]
        cum = np.cumsum(w / z)
        hit = np.nonzero(cum >= float(F32(top_p)))[0]
        if hit.size:
            cand = cand[: hit[0] + 1]
    q = np.exp((x[cand].astype(np.float64) - lmax) / float(F32(temperature)))
    return cand, q


def probs(x, temperature, top_k, top_p, min_p):
    """The filtered softmax: the distribution the sampler draws from, as a (V,) vector."""
    cand, q = kept_weights(x, temperature, top_k, top_p, min_p)
    out = np.zeros(np.asarray(x).shape[0])
    out[cand] = q / q.sum()
    return out


def draw(x, u, temperature, top_k, top_p, min_p):
    """Inverse-CDF draw with uniform u over the kept set, walked in the sampler's order."""
    cand, q = kept_weights(x, temperature, top_k, top_p, min_p)
    cum = np.cumsum(q)
    i = int(np.searchsorted(cum, u * cum[-1], side="right"))
    return int(cand[min(i, cand.size - 1)])


def log_softmax(logits):
    x = np.asarray(logits, dtype=np.float64)
    m = x.max()
    return x - (m + np.log(np.exp(x - m).sum()))
