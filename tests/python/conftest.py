"""Shared pytest setup for the Python tests.

- Makes ``import chainrule`` work from a source checkout (``python/`` on sys.path) when the package
  is not installed, and ``import op_catalog`` work from any test module.
- Imports torch plainly: the conformance tests need it as the reference, so a missing torch is an
  error, never a skip.
- Adds ``--long``: the op fuzzer (test_op_fuzz.py) runs 100,000 programs instead of a few hundred.
- Registers a hypothesis profile with modest example counts and no deadline (the first call of a
  compiled op can be slow), so the whole suite stays fast.
"""
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
_PYTHON_DIR = os.path.normpath(os.path.join(_HERE, "..", "..", "python"))
for _p in (_HERE, _PYTHON_DIR):
    if _p not in sys.path:
        sys.path.insert(0 if _p == _HERE else len(sys.path), _p)

import pytest  # noqa: E402
import torch  # noqa: E402,F401  (the reference implementation: must be installed)
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "chainrule", max_examples=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "chainrule"))


def pytest_addoption(parser):
    parser.addoption("--long", action="store_true", default=False,
                     help="run the op fuzzer (test_op_fuzz.py) for 100,000 programs")


@pytest.fixture(scope="module")
def torch_one_thread():
    """Runs a module's torch reference computations on one thread, restoring the count afterwards.

    The conformance tests call thousands of tiny torch ops; with several threads each one can wait
    milliseconds on OpenMP barriers when the machine is busy. torch and chainrule share libgomp, so
    the count is restored after the module for tests that exercise chainrule's parallel kernels.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
