"""The op fuzzer: random programs of 10-40 ops over every op of the catalog, compared with torch.

    pytest tests/python/test_op_fuzz.py           # CI: 300 programs (10 s of CPU)
    pytest tests/python/test_op_fuzz.py --long    # 100,000 programs (about an hour); must find nothing

A program starts from 1-3 inputs (0-d, empty and broadcastable shapes), then applies catalog entries
to its values as they are when torch accepts them (else fitted to a sample's shapes through views),
random views (transpose, slice with steps, expand, diagonal, unfold, ...) and in-place ops under
no_grad (on detached copies, and constant shifts of clones that keep their graph); every value is
kept in range and in its op's domain by smooth maps. Each step's results are compared with torch's,
then the gradients of a weighted sum of every value and a Hessian-vector product. A disagreement in
float32 is re-checked in float64; one in derivatives is settled by central finite differences in
float64 (torch is not always the accurate side). An exception on one side only is a disagreement.
See op_fuzz.py for the engine, and for campaigns that log every failure instead of stopping at the
first (python tests/python/op_fuzz.py --start 0 --count 20000; FUZZ_EXCLUDE=regex leaves out
catalog entries with known bugs); op_fuzz.localize(seed) names the first step whose gradient differs.
Reproducers of what it found are in test_op_fuzz_regressions.py.

Hypothesis draws the structure; the numbers come from numpy.random.RandomState(seed), so a printed
example reproduces exactly (the failure message also prints the whole program, step by step).
"""
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import op_fuzz

pytestmark = pytest.mark.usefixtures("torch_one_thread")

CI_PROGRAMS, LONG_PROGRAMS = 300, 100_000


def test_random_programs_match_torch(request):
    n = LONG_PROGRAMS if request.config.getoption("--long") else CI_PROGRAMS

    # no shrinking: a program's choices depend on what torch did, so shrinking them is slow (minutes)
    # and the failure already prints the whole program (op_fuzz.localize narrows it to one step)
    @settings(max_examples=n, deadline=None, database=None, report_multiple_bugs=False,
              phases=[Phase.explicit, Phase.generate],
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=st.data(), seed=st.integers(0, 2**31 - 1), dtype=st.sampled_from(["float32", "float64"]))
    def check(data, seed, dtype):
        op_fuzz.check_program(lambda k: data.draw(st.integers(0, k - 1)) if k > 1 else 0, seed, dtype)

    check()
