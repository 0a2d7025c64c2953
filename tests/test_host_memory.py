"""Training on the host does not page its temporaries back in on every iteration.

Each check runs in a fresh Python process (the malloc thresholds are per process) and counts
minor page faults (``getrusage``), never time. The control run switches the library's
``keep_freed_memory_in_process`` off, so the check is seen to fail without it.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest

pytestmark = [
    pytest.mark.skipif(sys.platform != "linux" or platform.libc_ver()[0] != "glibc",
                       reason="counts glibc's page faults: Linux with glibc only"),
    pytest.mark.skipif(any(k.startswith("MALLOC_") for k in os.environ),
                       reason="MALLOC_* tunables set in the environment: thresholds not default"),
]

# digits-sized: every (64, 1797) float64 activation is 920 KB, above glibc's 128 KiB default
_SCRIPT = """
import json, resource, sys
import numpy as np
import portable_nn as pnn
if sys.argv[1] == "off":
    import portable_nn.backend._host_memory as host_memory
    host_memory._done = True
rng = np.random.default_rng(0)
X = rng.standard_normal((64, 1797))
Y = np.eye(10)[:, np.arange(1797) % 10]
def run():
    pnn.train(X, Y, hidden=64, output="softmax", learning_rate=0.5, num_iterations=200)
run()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
run()
print(json.dumps((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 200))
"""


def _faults_per_iteration(mode: str) -> float:
    done = subprocess.run([sys.executable, "-c", _SCRIPT, mode], capture_output=True,
                          text=True, check=True, timeout=120)
    return json.loads(done.stdout.strip().splitlines()[-1])


class TestKeepFreedMemoryInProcess:
    def test_a_second_run_does_not_fault_its_temporaries_back_in(self):
        on = _faults_per_iteration("on")
        off = _faults_per_iteration("off")
        # without it: each fresh 920 KB temporary is about 225 faulted pages (1,042 measured)
        assert off > 200, f"control: {off} faults per iteration"
        assert on < 5, f"{on} faults per iteration (control without it: {off})"

    def test_only_the_first_call_allocates(self, monkeypatch):
        import numpy as np

        import portable_nn.backend._host_memory as host_memory

        calls = []
        monkeypatch.setattr(host_memory, "_done", False)
        monkeypatch.setattr(np, "empty", lambda *a, **k: calls.append(a) or np.zeros(1))
        host_memory.keep_freed_memory_in_process()
        host_memory.keep_freed_memory_in_process()
        assert calls == [(31 * 2**20,)]
