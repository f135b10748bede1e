"""
The C++ side of cr.nn's function modules.
"""
from __future__ import annotations
from . import functional
from . import init
from . import utils
__all__: list[str] = ['functional', 'init', 'utils']
