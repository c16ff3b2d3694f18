"""Benchmarks: attention kernels, training steps and forecasts, with time, memory and FLOP rates.

Each measurement runs in a fresh Python process (:mod:`informer.bench.measure`) so that its peak
resident memory (``ru_maxrss``) belongs to that measurement alone; the parent only collects the
JSON each child prints. Times are medians of repeated calls after warm-up calls.
"""
