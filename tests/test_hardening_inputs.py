"""Odd arguments and data, and silent divergence (issue 11, arguments and divergence families)."""

from __future__ import annotations

import importlib
import math
import types
import warnings

import numpy as np
import pytest
from helpers import on

import portable_nn as pnn


def _data(m=12):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, m))
    return X, (X[:1] > 0).astype(np.float64)


def _no_iteration(**kwargs):
    """Keyword arguments for ``train`` whose schedule records every iteration run."""
    calls = []

    def schedule(i):
        calls.append(i)
        return 0.1

    return calls, dict(learning_rate=schedule, num_iterations=5, **kwargs)


def _refused(exc, match, cell, **kwargs):
    calls, options = _no_iteration(**on(cell), **kwargs)
    with pytest.raises(exc, match=match):
        pnn.train(**options, recipe="lesson")
    assert calls == []


def _torch_inputs(torch):
    """The torch cases of :func:`_bad_inputs`."""
    return [
        ("torch sparse COO", lambda X: torch.tensor(X).to_sparse(), TypeError,
         r"{name} is a sparse Tensor of torch"),
        ("torch sparse CSR", lambda X: torch.tensor(X).to_sparse_csr(), TypeError,
         r"{name} is a sparse Tensor of torch"),
        ("torch bfloat16", lambda X: torch.tensor(X).bfloat16(), TypeError,
         r"{name} has dtype torch\.bfloat16"),
        ("torch float16", lambda X: torch.tensor(X).half(), TypeError,
         r"{name} has dtype torch\.float16"),
        ("torch complex64", lambda X: torch.tensor(X).to(torch.complex64), TypeError,
         r"{name} must hold real numbers"),
        ("torch meta tensor", lambda X: torch.empty(X.shape, device="meta"), ValueError,
         r"{name} is a tensor on the 'meta' device"),
    ]


def _jax_inputs(jnp, jsparse):
    """The JAX cases of :func:`_bad_inputs`."""
    return [("jax bfloat16", lambda X: jnp.asarray(X, dtype=jnp.bfloat16), TypeError,
             r"{name} has dtype bfloat16"),
            ("jax BCOO sparse", lambda X: jsparse.BCOO.fromdense(jnp.asarray(X)), TypeError,
             r"{name} is a sparse BCOO")]


def _bad_inputs():
    """(label, make(X) -> bad array, exception, regex); ``make`` gets NumPy X.

    The torch and JAX cases are there when those libraries are installed (the README's test
    command installs neither); CI installs both.
    """
    import scipy.sparse

    cases = [
        ("scipy csr_matrix", scipy.sparse.csr_matrix, TypeError, r"{name} is a sparse csr_matrix"),
        ("scipy coo_array", scipy.sparse.coo_array, TypeError, r"{name} is a sparse coo_array"),
    ]
    try:
        import torch
    except ImportError:
        pass
    else:
        cases += _torch_inputs(torch)
    cases += [
        ("numpy float16", lambda X: X.astype(np.float16), TypeError,
         r"{name} has dtype float16"),
        ("numpy longdouble", lambda X: X.astype(np.longdouble), TypeError,
         r"{name} has dtype float(128|96|64)"),
    ]
    try:
        import jax.numpy as jnp
        from jax.experimental import sparse as jsparse
    except ImportError:
        return cases
    return [*cases, *_jax_inputs(jnp, jsparse)]


BAD_INPUTS = _bad_inputs()


@pytest.mark.filterwarnings("ignore:Sparse CSR tensor support is in beta")
class TestRefusedData:
    """Sparse, bfloat16/float16/complex/longdouble and meta tensors: refused naming X or Y."""

    @pytest.mark.parametrize("case", BAD_INPUTS, ids=lambda c: c[0])
    def test_X(self, cpu_cell, case):
        X, Y = _data()
        _, make, exc, match = case
        _refused(exc, match.format(name="X"), cpu_cell, X=make(X), Y=Y)

    @pytest.mark.parametrize("case", BAD_INPUTS, ids=lambda c: c[0])
    def test_Y(self, cpu_cell, case):
        X, Y = _data()
        _, make, exc, match = case
        _refused(exc, match.format(name="Y"), cpu_cell, X=X, Y=make(Y))

    @pytest.mark.parametrize("case", BAD_INPUTS[:3], ids=lambda c: c[0])
    def test_dask(self, lazy_cell, case):
        X, Y = _data()
        _, make, exc, match = case
        _refused(exc, match.format(name="X"), lazy_cell, X=make(X), Y=Y)

    def test_predict(self, cpu_cell):
        torch = pytest.importorskip("torch")

        X, Y = _data()
        model = pnn.train(X, Y, num_iterations=2, **on(cpu_cell), recipe="lesson")
        with pytest.raises(TypeError, match=r"X has dtype torch\.bfloat16"):
            model.predict(torch.tensor(X).bfloat16())


class TestAutograd:
    """Tensors with autograd history are detached: no graph grows, parameters have no grad_fn."""

    def test_requires_grad_inputs(self):
        torch = pytest.importorskip("torch")

        X, Y = _data()
        Xt = torch.tensor(X, requires_grad=True)
        init = pnn.init_params((2, 4, 1), backend="torch")
        init = {k: v.clone().requires_grad_(True) for k, v in init.items()}
        model = pnn.train(Xt, torch.tensor(Y), init=init, num_iterations=20, backend="torch",
                          recipe="lesson")
        for key, value in model.params.items():
            assert value.grad_fn is None, key
            assert not value.requires_grad, key
        assert Xt.grad is None

    def test_graph_inputs_from_other_backend(self, cpu_cell):
        torch = pytest.importorskip("torch")

        X, Y = _data()
        Xt = torch.tensor(X, requires_grad=True) * 1.0  # a non-leaf: carries a grad_fn
        model = pnn.train(Xt, Y, num_iterations=3, **on(cpu_cell), recipe="lesson")
        assert all(getattr(v, "grad_fn", None) is None for v in model.params.values())


class TestBackendModule:
    """``backend=`` given a module: a known library is wrapped, anything else is refused."""

    def _modules():
        """The modules to pass; a library that is not installed is a visible skip."""
        cases = []
        for label, name in (("numpy", "numpy"), ("torch", "torch"), ("jax.numpy", "jax"),
                            ("jax", "jax")):
            try:
                module = importlib.import_module(label)
            except ImportError:
                cases.append(pytest.param(label, None, name, marks=pytest.mark.skip(
                    reason=f"{label} is not installed")))
                continue
            cases.append((label, module, name))
        return cases

    @pytest.mark.parametrize(("label", "module", "name"), _modules(), ids=lambda v: str(v)[:20])
    def test_raw_library_module_is_wrapped(self, label, module, name):
        X, Y = _data()
        model = pnn.train(X, Y, num_iterations=3, backend=module, dtype="float32", recipe="lesson")
        assert model.backend == name
        reference = pnn.train(X, Y, num_iterations=3, backend=name, dtype="float32",
                              recipe="lesson")
        np.testing.assert_allclose(pnn.to_numpy(model.params["W1"]),
                                   pnn.to_numpy(reference.params["W1"]), rtol=1e-6)

    def test_other_module_refused(self):
        X, Y = _data()
        with pytest.raises(TypeError, match=r"backend='math' is a module but not an array-API "
                                            r"namespace.*pass a backend name"):
            pnn.train(X, Y, num_iterations=1, backend=math, recipe="lesson")

    def test_fake_namespace_refused(self):
        fake = types.ModuleType("fake")
        fake.asarray = fake.matmul = lambda *a: None
        with pytest.raises(TypeError, match=r"backend='fake'.*__array_namespace_info__"):
            pnn.resolve_backend(fake)


class TestDevice:
    """Unusable devices are a ValueError naming ``device`` before training."""

    @pytest.mark.parametrize("device", ["meta", "mps", "xpu"])
    def test_torch(self, device):
        torch = pytest.importorskip("torch")

        if device == "mps" and torch.backends.mps.is_available():
            pytest.skip("MPS is available here")
        X, Y = _data()
        calls, options = _no_iteration(backend="torch", device=device)
        with pytest.raises(ValueError, match=rf"device='{device}'"):
            pnn.train(X, Y, **options, recipe="lesson")
        assert calls == []


class TestSizes:
    @pytest.mark.parametrize("hidden", [2**63, (4, 2**40), 2**31])
    def test_hidden_beyond_any_backend(self, hidden):
        X, Y = _data()
        with pytest.raises(ValueError, match=r"hidden=.*units, beyond what any backend can"):
            pnn.train(X, Y, hidden=hidden, num_iterations=1, recipe="lesson")


class TestZeroSamples:
    """``predict``, ``predict_proba``, ``accuracy`` and ``cost`` on zero samples."""

    @pytest.mark.parametrize("method", ["predict", "predict_proba", "accuracy", "cost"])
    def test_value_error(self, cpu_cell, method):
        X, Y = _data()
        model = pnn.train(X, Y, num_iterations=2, **on(cpu_cell), recipe="lesson")
        args = (X[:, :0],) if method.startswith("predict") else (X[:, :0], Y[:, :0])
        with pytest.raises(ValueError, match=r"X has zero samples"):
            getattr(model, method)(*args)


# ReLU, a huge learning rate, no cost recorded after iteration 0: the final parameters are
# finite (about 1e183) but their cost is NaN (float64)
DIVERGING = dict(hidden=(20,), hidden_activation="relu", learning_rate=1e4, num_iterations=50,
                 cost_every=10**6, init="he")


class TestSilentDivergence:
    """A run ending with a NaN cost raises, even with no cost recorded near the end."""

    def test_final_cost_checked(self, cpu_cell):
        X, Y = pnn.datasets.planar()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with pytest.raises(pnn.TrainingDivergedError, match=r"iteration 50"):
                pnn.train(X, Y, **DIVERGING, **on(cpu_cell), recipe="lesson")
        shown = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
        assert shown == []  # no "overflow encountered in matmul" sprayed at the user

    def test_no_diverged_end_checkpoint(self, tmp_path):
        """The final check runs before the end-of-run checkpoint: no NaN-cost model is saved."""
        X, Y = pnn.datasets.planar()
        path = tmp_path / "run.npz"
        with pytest.raises(pnn.TrainingDivergedError):
            pnn.train(X, Y, **DIVERGING, checkpoint=path, recipe="lesson")
        assert not path.exists()

    def test_converging_run_unchanged(self, cpu_cell):
        X, Y = _data()
        model = pnn.train(X, Y, num_iterations=20, cost_every=1000, **on(cpu_cell), recipe="lesson")
        assert model.iterations == 20
