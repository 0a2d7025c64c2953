"""The step specification: every option a training step reads is in it, and it is the key.

A compiled step is cached by its :class:`StepSpec`; an option the step read but the spec
missed would let a second ``train`` reuse a step compiled for the old value. Two guards:

- every training option either changes the spec (for every optimizer that reads it) or is in
  ``NOT_READ_BY_STEP`` with its reason: a new option fails here until it is classified;
- the step builders (eager, compiled, chunked, Dask) are handed the spec, never the options:
  their signatures and their modules' source are audited, so they can read nothing else.
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import pytest
from helpers import assert_runs_close

import portable_nn as pnn
from portable_nn.core.optimizers import OPTIMIZERS, hyperparams_of
from portable_nn.training import (
    TrainOptions,
    _chunk_sums,
    _chunked,
    _dask_train,
    _steps,
    _strategies,
    _strategy,
)
from portable_nn.training._step_spec import NOT_READ_BY_STEP, StepSpec

ROOT = Path(__file__).resolve().parent.parent / "portable_nn" / "training"
EVERY_HYPERPARAM = {name for opt in OPTIMIZERS for name in hyperparams_of(opt)}


def alternatives(tmp_path: Path) -> dict[str, dict]:
    """For every option, a change of it (with what the change needs) from :func:`base`."""
    saved = tmp_path / "saved.npz"
    pnn.train(np.ones((2, 4)), np.ones((1, 4)), num_iterations=1, hidden=2).save(saved)
    pair = (np.ones((2, 3)), np.ones((1, 3)))
    return {
        "hidden": {"hidden": (3,)},
        "hidden_activation": {"hidden_activation": "relu"},
        "output": {"output": "softmax"},
        "learning_rate": {"learning_rate": 0.5},
        "num_iterations": {"num_iterations": 5},
        "init": {"init": "he"},
        "seed": {"seed": 7},
        "backend": {"backend": "torch"},
        "device": {"device": "cpu"},
        "dtype": {"dtype": "float32"},
        "cost_every": {"cost_every": 7},
        "print_cost": {"print_cost": True},
        "batch_size": {"batch_size": 8},
        "optimizer": {"optimizer": "OTHER"},  # filled in per optimizer
        "beta1": {"beta1": 0.5},
        "beta2": {"beta2": 0.9},
        "epsilon": {"epsilon": 1e-6},
        "weight_decay": {"weight_decay": 0.2},
        "l2": {"l2": 0.1},
        "keep_prob": {"keep_prob": 0.8},
        "progress": {"progress": True},
        "compile": {"compile": True},
        "checkpoint": {"checkpoint": str(tmp_path / "c.npz")},
        "checkpoint_every": {"checkpoint": str(tmp_path / "c.npz"), "checkpoint_every": 5},
        "resume": {"resume": str(saved)},
        "standardize": {"standardize": True},
        "chunk_size": {"chunk_size": 16},
        "validation": {"validation": pair},
        "early_stopping": {"validation": pair, "early_stopping": 3},
        "callbacks": {"callbacks": [pnn.Callback()]},
        "recipe": {"recipe": "tabular"},
        "tol": {"tol": 1e-2},
        "n_iter_no_change": {"n_iter_no_change": 3},
    }


def spec_of(options: TrainOptions) -> StepSpec:
    """The spec of ``options`` once the recipe has filled in what was left to it (as train does)."""
    options = options.resolved(options.output or "sigmoid")
    return StepSpec.from_options(options, (2, *options.hidden, 1))


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_every_option_changes_the_spec_or_is_listed(optimizer, tmp_path):
    # dropout on: the seed counts; resolved, as train resolves the recipe before the spec
    base = TrainOptions(recipe="lesson", optimizer=optimizer,
                        keep_prob=0.5).resolved("sigmoid")
    changes = alternatives(tmp_path)
    unlisted = [f.name for f in fields(TrainOptions) if f.name not in changes]
    assert not unlisted, f"give the new options {unlisted} a changed value here"
    other = next(name for name in OPTIMIZERS if name != optimizer)
    changes["optimizer"] = {"optimizer": other}
    missed = []
    for name, change in changes.items():
        changed = replace(base, **change)
        assert getattr(changed, name) != getattr(base, name), name
        not_read = name in NOT_READ_BY_STEP or (
            name in EVERY_HYPERPARAM and name not in hyperparams_of(optimizer))
        if (spec_of(changed) == spec_of(base)) != not_read:
            missed.append(name)
    assert not missed, (f"with optimizer={optimizer!r}, these options change the spec but are "
                        f"listed as not read, or are not listed but leave it unchanged: {missed}")


def test_not_read_list_names_real_options():
    assert set(NOT_READ_BY_STEP) <= {f.name for f in fields(TrainOptions)}
    assert not set(NOT_READ_BY_STEP) & EVERY_HYPERPARAM


def test_spec_without_dropout_ignores_the_seed():
    """Runs without dropout share a compiled step whatever their seed."""
    assert spec_of(TrainOptions(seed=1)) == spec_of(TrainOptions(seed=2))
    assert spec_of(TrainOptions(seed=1, keep_prob=0.5)) != spec_of(TrainOptions(seed=2,
                                                                                keep_prob=0.5))
    assert hash(spec_of(TrainOptions())) == hash(spec_of(TrainOptions()))


# ------------------------------------------------------------------------ the builders' inputs

BUILDERS = [_steps.make_step, _steps.EagerStrategy.__init__, _steps.CompiledStrategy.__init__,
            _chunked.ChunkedStrategy.__init__, _chunked.make_chunked_step,
            _chunk_sums.update_from_sums, _dask_train.DaskStrategy.__init__,
            _dask_train.DaskStrategy.step, _strategies.build_strategy,
            _strategy.Strategy.__init__]


@pytest.mark.parametrize("builder", BUILDERS, ids=lambda b: b.__qualname__)
def test_builders_take_the_spec_not_the_options(builder):
    params = inspect.signature(builder).parameters
    assert "options" not in params
    assert all("TrainOptions" not in str(p.annotation) for p in params.values())


@pytest.mark.parametrize("module", ["_steps.py", "_chunked.py", "_dask_train.py",
                                    "_chunk_sums.py", "_strategy.py", "_strategies.py"])
def test_step_modules_never_see_the_options(module):
    """The strategies' modules name neither ``TrainOptions`` nor ``options``."""
    tree = ast.parse((ROOT / module).read_text())
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    names |= {node.arg for node in ast.walk(tree) if isinstance(node, ast.arg)}
    assert not names & {"TrainOptions", "options"}


def test_make_step_reads_only_the_spec():
    tree = ast.parse(inspect.getsource(_steps.make_step))
    reads = {node.value.id for node in ast.walk(tree)
             if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)}
    assert "options" not in reads
    assert "spec" in reads


# ----------------------------------------------------------------- the compiled-step cache key


@pytest.mark.parametrize(("first", "second"), [
    ({"optimizer": "adamw", "weight_decay": 0.0}, {"optimizer": "adamw", "weight_decay": 0.5}),
    ({"optimizer": "nesterov", "beta1": 0.5}, {"optimizer": "nesterov", "beta1": 0.9}),
    ({"l2": 0.0}, {"l2": 0.7}),
])
def test_a_second_compiled_run_sees_the_changed_option(first, second, planar_data):
    pytest.importorskip("jax", reason="compile=True needs JAX here")
    X, Y = planar_data
    run = dict(hidden=4, hidden_activation="tanh", output="sigmoid", learning_rate=0.05,
               num_iterations=30, cost_every=10, init="small", backend="jax", dtype="float64")
    pnn.train(X, Y, **run, **first, compile=True)  # fills the cache
    compiled = pnn.train(X, Y, **run, **second, compile=True)
    eager = pnn.train(X, Y, **run, **second)
    assert_runs_close(compiled, eager, dict(rtol=1e-10, atol=1e-12))
