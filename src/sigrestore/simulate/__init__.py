"""Synthetic data: array layouts and probe-level intensities for tests and examples."""

from sigrestore.simulate.chip import iter_arrays, make_layout, synthesize_arrays

__all__ = ["iter_arrays", "make_layout", "synthesize_arrays"]
