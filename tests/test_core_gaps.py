"""What the mutation testing of ``core/`` found untested (issue 18, family 10).

Each test kills surviving mutants: softmax and log-sum-exp shifted by anything but each
column's own maximum (NaN for logits like ``[[1000, 0], [999, 1]]``); arrays of two libraries
passed to ``compute_cost``, the backward passes' cache and dropout masks; unknown names passed
to the public core functions; ``m_total=1`` in chunk shares; a callback's ``every=1``. They
run on NumPy and array-api-strict, the two libraries every installation of the test extra has
(never skipped). The references are written out with Python's ``math``, not with portable_nn.
"""

from __future__ import annotations

import math
import sys

import array_api_strict
import numpy as np
import pytest

import portable_nn as pnn
from portable_nn import core
from portable_nn.backend import resolve_backend

LOGITS = [[1000.0, 0.0, -3.0], [999.0, 1.0, 700.0]]  # a column max far from the global one
LABELS = [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]]


@pytest.fixture(params=["numpy", "array_api_strict"])
def xp(request):
    return resolve_backend(request.param, None, "float64").xp


def _softmax_column(column):
    top = max(column)
    e = [math.exp(z - top) for z in column]
    return [v / sum(e) for v in e]


def _reference_softmax():
    columns = list(zip(*LOGITS, strict=True))
    return np.array([_softmax_column(c) for c in columns]).T


def _reference_cost():
    """Mean categorical cross-entropy from the logits, per column by ``math``."""
    losses = []
    for z, y in zip(zip(*LOGITS, strict=True), zip(*LABELS, strict=True), strict=True):
        top = max(z)
        lse = top + math.log(sum(math.exp(v - top) for v in z))
        losses.append(-sum(t * (v - lse) for t, v in zip(y, z, strict=True)))
    return sum(losses) / len(losses)


class TestPerColumnShift:
    def test_softmax(self, xp):
        got = core.output_function("softmax")(xp.asarray(LOGITS, dtype=xp.float64), xp=xp)
        np.testing.assert_allclose(pnn.to_numpy(got), _reference_softmax(), rtol=1e-14,
                                   atol=1e-300)

    def test_forward_softmax_layer(self, xp):
        """Through ``forward``: a 2-2 network whose logits are LOGITS."""
        params = {"W1": xp.asarray([[1.0, 0.0], [0.0, 1.0]], dtype=xp.float64),
                  "b1": xp.zeros((2, 1), dtype=xp.float64)}
        AL, _ = core.forward(params, xp.asarray(LOGITS, dtype=xp.float64), output="softmax")
        np.testing.assert_allclose(pnn.to_numpy(AL), _reference_softmax(), rtol=1e-14,
                                   atol=1e-300)

    def test_log_sum_exp_cost(self, xp):
        ZL = xp.asarray(LOGITS, dtype=xp.float64)
        Y = xp.asarray(LABELS, dtype=xp.float64)
        cost = float(core.cost_from_logits(ZL, Y, output="softmax", xp=xp))
        assert math.isfinite(cost)
        assert cost == pytest.approx(_reference_cost(), rel=1e-14)
        AL = core.output_function("softmax")(ZL, xp=xp)
        assert core.compute_cost(AL, Y, output="softmax", logits=ZL) == pytest.approx(
            _reference_cost(), rel=1e-14)


class TestMixedLibraries:
    """NumPy and array-api-strict arrays in one call: a TypeError naming both arguments."""

    @pytest.fixture
    def run(self):
        params = pnn.init_params((2, 3, 1), seed=0)
        X = np.linspace(-1.0, 1.0, 8).reshape(2, 4)
        Y = np.array([[0.0, 1.0, 1.0, 0.0]])
        AL, cache = core.forward(params, X, hidden_activation="tanh", output="sigmoid")
        return params, X, Y, AL, cache

    def test_compute_cost(self, run):
        _, _, Y, AL, _ = run
        with pytest.raises(TypeError, match=r"^Y is a array_api_strict array but AL is a numpy"):
            core.compute_cost(AL, array_api_strict.asarray(Y))
        with pytest.raises(TypeError, match=r"^logits is a array_api_strict array but AL is"):
            core.compute_cost(AL, Y, logits=array_api_strict.asarray(AL))

    @pytest.mark.parametrize("backward", [core.backward, core.backward_fused])
    def test_backward_cache(self, run, backward):
        params, _, Y, _, cache = run
        mixed = {**cache, "A1": array_api_strict.asarray(cache["A1"])}
        with pytest.raises(TypeError, match=r"^cache\['A1'\] is a array_api_strict array but "
                                            r"params\['W1'\] is a numpy array"):
            backward(params, mixed, Y, hidden_activation="tanh", output="sigmoid")

    def test_dropout_masks(self, run):
        params, X, Y, _, _ = run
        masks = {1: array_api_strict.ones((3, 4), dtype=array_api_strict.float64)}
        with pytest.raises(TypeError, match=r"^dropout_masks\[1\] is a array_api_strict array "
                                            r"but X is a numpy array"):
            core.forward(params, X, dropout_masks=masks)
        with pytest.raises(TypeError, match=r"^dropout_masks\[1\] is a array_api_strict"):
            core.chunk_gradients(params, X, Y, m_total=4, hidden_activation="tanh",
                                 output="sigmoid", dropout_masks=masks)


UNKNOWN_NAME_CALLS = {  # argument named in the error, call on (params, X, Y, AL, cache)
    "activation": ("hidden_activation", lambda r: core.activation("swish")),
    "activation_derivative": ("hidden_activation",
                              lambda r: core.activation_derivative("swish")),
    "output_function": ("output", lambda r: core.output_function("swish")),
    "forward hidden": ("hidden_activation",
                       lambda r: core.forward(r[0], r[1], hidden_activation="swish")),
    "forward output": ("output", lambda r: core.forward(r[0], r[1], output="swish")),
    "backward hidden": ("hidden_activation",
                        lambda r: core.backward(r[0], r[4], r[2], hidden_activation="swish")),
    "backward output": ("output", lambda r: core.backward(r[0], r[4], r[2], output="swish")),
    "backward_fused hidden": ("hidden_activation", lambda r: core.backward_fused(
        r[0], r[4], r[2], hidden_activation="swish", output="sigmoid")),
    "backward_fused output": ("output", lambda r: core.backward_fused(
        r[0], r[4], r[2], hidden_activation="tanh", output="swish")),
    "compute_cost": ("output", lambda r: core.compute_cost(r[3], r[2], output="swish")),
    "cost_from_logits": ("output", lambda r: core.cost_from_logits(
        r[3], r[2], output="swish", xp=np)),
    "cost_from_probabilities": ("output", lambda r: core.cost_from_probabilities(
        r[3], r[2], output="swish", xp=np)),
    "chunk_gradients": ("output", lambda r: core.chunk_gradients(
        r[0], r[1], r[2], m_total=4, hidden_activation="tanh", output="swish")),
    "init_optimizer_state": ("optimizer",
                             lambda r: core.init_optimizer_state("rmsprop", r[0])),
    "optimizer_step": ("optimizer", lambda r: core.optimizer_step(
        "rmsprop", r[0], core.backward(r[0], r[4], r[2]), {}, 0.1)),
}


class TestUnknownNames:
    """Every public core function refuses a name it does not know, naming the argument."""

    @pytest.fixture
    def run(self):
        params = pnn.init_params((2, 3, 1), seed=0)
        X = np.linspace(-1.0, 1.0, 8).reshape(2, 4)
        Y = np.array([[0.0, 1.0, 1.0, 0.0]])
        AL, cache = core.forward(params, X)
        return params, X, Y, AL, cache

    @pytest.mark.parametrize("call", list(UNKNOWN_NAME_CALLS))
    def test_refused(self, run, call):
        argument, fn = UNKNOWN_NAME_CALLS[call]
        with pytest.raises(ValueError, match=rf"^{argument}='(swish|rmsprop)' is unknown"):
            fn(run)


class TestOneSampleShare:
    """``m_total=1``: one sample's chunk is the whole batch; 0 and fewer than the chunk's
    columns are refused."""

    def test_equals_backward(self, xp):
        params = {k: xp.asarray(v) for k, v in pnn.init_params((2, 3, 1), seed=1).items()}
        X = xp.asarray([[0.5], [-1.5]], dtype=xp.float64)
        Y = xp.asarray([[1.0]], dtype=xp.float64)
        grads, cost = core.chunk_gradients(params, X, Y, m_total=1, hidden_activation="tanh",
                                           output="sigmoid", with_cost=True)
        AL, cache = core.forward(params, X)
        full = core.backward(params, cache, Y)
        for key, value in full.items():
            np.testing.assert_allclose(pnn.to_numpy(grads[key]), pnn.to_numpy(value),
                                       rtol=1e-13, err_msg=key)
        p = float(pnn.to_numpy(AL)[0, 0])
        assert float(cost) == pytest.approx(-math.log(p), rel=1e-13)

    @pytest.mark.parametrize("m_total", [0, -1, 1])
    def test_refused(self, m_total):
        params = pnn.init_params((2, 3, 1), seed=1)
        X, Y = np.ones((2, 2)), np.ones((1, 2))  # 2 columns: m_total=1 is too few
        with pytest.raises(ValueError, match=rf"^m_total={m_total} must be >= 1"):
            core.chunk_gradients(params, X, Y, m_total=m_total, hidden_activation="tanh",
                                 output="sigmoid")


L2_PARAMS = {"W1": [[1.0, -2.0], [0.5, 0.0], [3.0, 1.0]], "b1": [[7.0], [7.0], [7.0]],
             "W2": [[2.0, -1.0, 0.25]], "b2": [[-9.0]]}


class TestPenaltyAndClipping:
    """``compute_cost`` with L2 (a sum of squared weights, biases not penalised) and the
    lesson's clipped cost at probabilities of exactly 0 and 1 (mutants left these untested)."""

    def test_l2_penalty(self, xp):
        params = {k: xp.asarray(v, dtype=xp.float64) for k, v in L2_PARAMS.items()}
        AL = xp.asarray([[0.9, 0.2, 0.6, 0.3]], dtype=xp.float64)
        Y = xp.asarray([[1.0, 0.0, 1.0, 1.0]], dtype=xp.float64)
        entropy = -sum(y * math.log(a) + (1 - y) * math.log(1 - a)
                       for a, y in zip([0.9, 0.2, 0.6, 0.3], [1, 0, 1, 1], strict=True)) / 4
        squares = sum(w * w for key in ("W1", "W2") for row in L2_PARAMS[key] for w in row)
        expected = entropy + 0.7 / (2 * 4) * squares
        assert core.compute_cost(AL, Y, params=params, l2=0.7) == pytest.approx(expected,
                                                                                rel=1e-14)
        assert core.compute_cost(AL, Y, params=params) == pytest.approx(entropy, rel=1e-14)
        assert float(core.l2_penalty(params, 0.7, 4, xp=xp)) == pytest.approx(
            0.7 / 8 * squares, rel=1e-14)

    def test_l2_needs_params(self, xp):
        AL = xp.asarray([[0.5]], dtype=xp.float64)
        with pytest.raises(ValueError, match=r"^compute_cost with l2 > 0 needs params="):
            core.compute_cost(AL, AL, l2=0.1)

    def test_params_of_another_library(self):
        params = {k: array_api_strict.asarray(v, dtype=array_api_strict.float64)
                  for k, v in L2_PARAMS.items()}
        AL = np.array([[0.9, 0.2]])
        with pytest.raises(TypeError, match=r"^params\['W1'\] is a array_api_strict array but "
                                            r"AL is a numpy array"):
            core.compute_cost(AL, np.array([[1.0, 0.0]]), params=params, l2=0.1)

    def test_probabilities_of_exactly_zero_and_one(self, xp):
        AL = xp.asarray([[0.0, 1.0]], dtype=xp.float64)
        Y = xp.asarray([[1.0, 0.0]], dtype=xp.float64)  # both predictions wholly wrong
        cost = float(core.cost_from_probabilities(AL, Y, output="sigmoid", xp=xp))
        # clipped into [tiny, 1 - eps] of float64, as documented
        tiny, eps = sys.float_info.min, sys.float_info.epsilon
        assert cost == pytest.approx((-math.log(tiny) - math.log(eps)) / 2, rel=1e-12)


class _Recorder(pnn.Callback):
    """The iterations of every ``on_record`` call."""

    def __init__(self, every):
        self.every = every
        self.seen = []

    def on_record(self, run):
        self.seen.append(run.iteration)


class TestEveryOne:
    """A callback's ``every=1``: called at every iteration, the stored costs (``cost_every``)
    and the parameters unchanged. (CSVs with a byte-order mark or a newline inside quotes are
    tested in tests/test_hardening_data.py.)"""

    @pytest.mark.filterwarnings("ignore::portable_nn.training.ChanceLevelWarning")  # 12 iterations
    @pytest.mark.parametrize("every", [1, np.int64(1)])
    def test_every_iteration(self, every):
        X = np.linspace(-1.0, 1.0, 16).reshape(2, 8)
        Y = np.array([[0.0, 1.0] * 4])
        kw = dict(num_iterations=12, cost_every=5, recipe="lesson", seed=3)
        every_one, every_six = _Recorder(every), _Recorder(6)
        watched = pnn.train(X, Y, callbacks=[every_one, every_six], **kw)
        plain = pnn.train(X, Y, **kw)
        assert every_one.seen == list(range(12))
        assert every_six.seen == [0, 6]
        assert sorted(watched.costs) == [0, 5, 10]
        assert watched.costs == plain.costs
        for key, value in plain.params.items():
            np.testing.assert_array_equal(pnn.to_numpy(watched.params[key]), value)

    def test_check_every_one(self):
        from portable_nn.training._callbacks import check_every

        assert check_every(_Recorder(1)) == 1
        assert type(check_every(_Recorder(np.int64(1)))) is int
        with pytest.raises(ValueError, match=r"every must be None or an int >= 1, got 0"):
            check_every(_Recorder(0))
        with pytest.raises(ValueError, match=r"got True"):
            check_every(_Recorder(True))
