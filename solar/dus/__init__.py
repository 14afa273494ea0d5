"""Depth Up-Scaling in memory: SOLAR's recipe and mergekit-style passthrough stacking with no
copy of any weight, plus layer-similarity analysis of the result.

    big = solar.dus.depth_up_scale(m, 8)                     # layers [0, n-8) + [8, n)
    big = solar.dus.passthrough([(m, 0, 24), (m, 8, 32)])
    sim = solar.dus.layer_similarity(big, texts)
"""
from .analysis import LayerSimilarity, layer_similarity, seam_report
from .plot import plot_layer_similarity
from .surgery import depth_up_scale, from_mergekit_yaml, passthrough

__all__ = ["depth_up_scale", "passthrough", "from_mergekit_yaml", "layer_similarity", "seam_report",
           "plot_layer_similarity", "LayerSimilarity"]
