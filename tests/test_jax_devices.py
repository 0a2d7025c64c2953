"""JAX across devices (issue 10): ``backend="jax"`` with ``device=`` a list of devices or a
mesh splits the samples across them and compiles the step once; parameters are replicated.

Two virtual CPU devices need ``XLA_FLAGS`` before JAX starts, so the checks run in one
subprocess (``SCRIPT``) that prints its findings as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("jax")

SCRIPT = textwrap.dedent("""
    import json
    import jax
    import numpy as np
    from jax.sharding import Mesh
    import portable_nn as pnn
    from portable_nn.backend import resolve_backend
    from portable_nn.backend._compile import _CACHE

    def rel(a, b):
        return max(float(np.max(np.abs(pnn.to_numpy(a.params[k]) - pnn.to_numpy(b.params[k])))
                         / np.max(np.abs(pnn.to_numpy(b.params[k])))) for k in b.params)

    X, Y = pnn.datasets.planar()
    kw = dict(recipe="lesson", hidden=5, num_iterations=100, backend="jax", dtype="float64", l2=0.2,
              cost_every=50, compile=True)
    devices = jax.devices()
    out = {"devices": len(devices)}
    one = pnn.train(X, Y, **kw)
    two = pnn.train(X, Y, device=devices, **kw)
    out["list"] = rel(two, one)
    out["costs"] = [two.costs[i] - one.costs[i] for i in one.costs]
    out["replicated"] = all(p.sharding.is_fully_replicated and len(p.sharding.device_set) == 2
                            for p in two.params.values())
    steps = [c.step for key, c in _CACHE.items() if "samples" in key[1]]
    out["compiled_steps"] = [s._cache_size() for s in steps]
    mesh = Mesh(np.array(devices), ("data",))
    out["mesh"] = rel(pnn.train(X, Y, device=mesh, **kw), one)
    eager = dict(kw, compile=False, num_iterations=20)
    out["eager"] = rel(pnn.train(X, Y, device=devices, **eager), pnn.train(X, Y, **eager))
    be = resolve_backend("jax", devices)
    from portable_nn.backend._jax_devices import shard_samples
    spec = shard_samples(be.xp.asarray(X, device=be.device), be).sharding.spec
    out["x_spec"] = [str(axis) for axis in spec]
    out["predict"] = int(pnn.to_numpy(two.predict(X)).shape[1])
    try:
        pnn.train(X[:, :399], Y[:, :399], device=devices, **kw)
    except ValueError as exc:
        out["odd"] = str(exc)
    print(json.dumps(out))
""")


@pytest.fixture(scope="module")
def findings():
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=2",
               JAX_ENABLE_X64="True", JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True,
                          text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


class TestJaxDevices:
    def test_two_virtual_devices(self, findings):
        assert findings["devices"] == 2

    def test_list_of_devices_equals_one_device(self, findings):
        assert findings["list"] <= 1e-12
        assert max(abs(c) for c in findings["costs"]) <= 1e-12

    def test_mesh_equals_one_device(self, findings):
        assert findings["mesh"] <= 1e-12

    def test_eager_equals_one_device(self, findings):
        assert findings["eager"] <= 1e-12

    def test_parameters_replicated_samples_sharded(self, findings):
        assert findings["replicated"]
        assert findings["x_spec"] == ["None", "samples"]  # rows whole, columns split

    def test_step_compiled_once(self, findings):
        assert findings["compiled_steps"]
        assert all(n == 1 for n in findings["compiled_steps"])

    def test_model_predicts(self, findings):
        assert findings["predict"] == 400

    def test_samples_must_split_evenly(self, findings):
        assert "399 samples" in findings["odd"]
        assert "2 devices" in findings["odd"]
