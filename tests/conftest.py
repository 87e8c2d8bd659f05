"""Test settings: float64 everywhere, so that gradient paths can be compared to 1e-10."""

import os

# No persistent compilation cache in the user's home from the tests (tests/test_cache.py tests it on its own).
os.environ.setdefault("JAXNN_NO_COMPILATION_CACHE", "1")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)
