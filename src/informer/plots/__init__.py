"""Pictures of a run: the window on the series, forecasts, training curves, ProbSparse at work.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (no global
state, no display: the Agg canvas renders it); nothing here writes a file. The data figures take
plain arrays in original units; the attention figures take the stages of
:func:`informer.explain.trace` (``keep_tensors=True`` for the sparsity and weights figures), so
they draw what the real forward pass computed.

====================  ==================================================================
:func:`window_figure`    the sliding window on the real series: seq_len, label_len, pred_len
:func:`forecast_figure`  forecast against truth for one window, with the label_len context
:func:`training_figure`  train / val / test loss and learning rate per epoch
:func:`sparsity_figure`  every query's sparsity, per layer and head, the kept ones marked
:func:`attention_figure` the kept queries' attention weights as heat maps
:func:`lengths_figure`   the sequence length through the encoder's distilling layers
====================  ==================================================================

:func:`has_stages` says whether a trace holds what a figure needs (a DLinear or repeat model has
no attention; full attention keeps no queries).
"""

from informer.plots.attention import attention_figure, has_stages, lengths_figure, sparsity_figure
from informer.plots.series import forecast_figure, training_figure, window_figure

__all__ = ["attention_figure", "forecast_figure", "has_stages", "lengths_figure", "sparsity_figure",
           "training_figure", "window_figure"]
