"""The version of the engine API that packs declare a range for (``engine = "^1.0"`` in pack.toml).

It lives in the core so that the pack resolver can check it without importing the features;
``engine.api.API_VERSION`` is this same value. ``MAJOR.MINOR``: a minor release only adds names.
"""
from __future__ import annotations

API_VERSION = "1.0"
