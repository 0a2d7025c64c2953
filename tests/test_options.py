"""Every interface's options agree with the specification (``portable_nn.training.OPTIONS``).

``train``'s signature and docstring, both scikit-learn estimators (parameters, defaults,
order, docstrings) and the command line (flags, destinations, defaults, choices) are read back
from the objects themselves and compared with the specification, so any drift fails here.
"""

import argparse
import inspect
from dataclasses import fields, replace

import pytest

import portable_nn as pnn
from portable_nn.tools import cli
from portable_nn.training import OPTIONS, TOOL_OPTIONS, Cli, EstimatorParam, Option, TrainOptions

#: The estimators' documented defaults that differ from the specification's.
ESTIMATOR_OVERRIDES = {"NeuralNetClassifier": {}, "NeuralNetRegressor": {"learning_rate": 0.1}}
#: The command line's own arguments, not training options.
CLI_ONLY = {"--help", "--test-fraction", "--save", "--plot", "--out", "--proba", "--json",
            "--version",
            "--target", "--drop", "--delimiter", "--encoding"}  # how a .csv file is read


def _tools_sklearn():
    pytest.importorskip("sklearn")
    from portable_nn.tools import sklearn

    return sklearn


def _estimator_classes():
    sklearn = _tools_sklearn()
    return [sklearn.NeuralNetClassifier, sklearn.NeuralNetRegressor]


def _expected_estimator_parameters(cls):
    """(name, default, kind, doc) of the estimator's parameters, read off the specification."""
    expected = []
    for spec in (*OPTIONS, *TOOL_OPTIONS):
        own = spec.estimator
        if own is False:
            continue
        if isinstance(own, EstimatorParam):
            expected.append((spec.name, own.default, own.kind, own.doc.strip()))
        else:
            expected.append((spec.name, spec.default, spec.kind, spec.doc))
    overrides = ESTIMATOR_OVERRIDES[cls.__name__]
    return [(name, overrides.get(name, default), kind, doc)
            for name, default, kind, doc in expected]


def _subparser(parser, command):
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return action.choices[command]


def _flags(parser):
    return {flag: action for action in parser._actions for flag in action.option_strings
            if flag.startswith("--")}


def _documents(docstring, name, kind, doc, default=None, *, with_default=False):
    """Whether ``docstring`` holds the numpydoc entry of one option (header and text)."""
    header = f"    {name} : {kind}" + (f", default={default!r}" if with_default else "")
    text = "\n".join(f"        {line}" if line else "" for line in doc.splitlines())
    return f"{header}\n{text}\n" in docstring


class TestSpecification:
    def test_every_option_has_a_kind_and_a_doc(self):
        for spec in (*OPTIONS, *TOOL_OPTIONS):
            assert spec.kind.strip(), spec.name
            assert len(spec.doc.split()) >= 3, spec.name
            if isinstance(spec.estimator, EstimatorParam):
                assert spec.estimator.kind.strip(), spec.name
                assert len(spec.estimator.doc.split()) >= 3, spec.name

    def test_names_are_unique_and_the_fields_of_train_options(self):
        names = [spec.name for spec in (*OPTIONS, *TOOL_OPTIONS)]
        assert len(names) == len(set(names))
        assert [f.name for f in fields(TrainOptions)] == [spec.name for spec in OPTIONS]

    def test_every_default_passes_its_own_check(self):
        options = TrainOptions()  # checks every default
        for spec in OPTIONS:
            assert getattr(options, spec.name) == spec.validate(spec.default), spec.name
        for spec in TOOL_OPTIONS:
            assert spec.validate(spec.default) == spec.default, spec.name

    def test_estimator_defaults_pass_their_checks(self):
        for spec in OPTIONS:
            if isinstance(spec.estimator, EstimatorParam):
                own = spec.estimator
                assert own.check(spec.name, own.default) == own.default, spec.name

    def test_every_command_line_choice_is_accepted_by_the_option(self):
        for spec in (*OPTIONS, *TOOL_OPTIONS):
            if spec.cli is None:
                continue
            for choice in spec.cli.choices or spec.choices or ():
                if choice != spec.cli_default or spec.cli.default == "same":
                    assert spec.validate(choice) == choice, (spec.name, choice)

    def test_switches_are_booleans(self):
        for spec in OPTIONS:
            if spec.cli is not None and spec.cli.text == "switch":
                assert isinstance(spec.default, bool), spec.name
                assert isinstance(spec.cli_default, bool), spec.name


class TestTrain:
    def test_signature_names_order_and_defaults(self):
        parameters = list(inspect.signature(pnn.train).parameters.values())
        assert [p.name for p in parameters[:2]] == ["X", "Y"]
        options = parameters[2:]
        assert [p.name for p in options] == [spec.name for spec in OPTIONS]
        for parameter, spec in zip(options, OPTIONS, strict=True):
            assert parameter.kind is inspect.Parameter.KEYWORD_ONLY, spec.name
            assert parameter.default == spec.default, spec.name
            assert type(parameter.default) is type(spec.default), spec.name

    def test_docstring_has_every_option(self):
        for spec in OPTIONS:
            assert _documents(pnn.train.__doc__, spec.name, spec.kind, spec.doc), spec.name


class TestEstimators:
    @pytest.mark.parametrize("index", [0, 1], ids=["classifier", "regressor"])
    def test_parameters_names_order_and_defaults(self, index):
        cls = _estimator_classes()[index]
        expected = _expected_estimator_parameters(cls)
        signature = inspect.signature(cls)
        assert [(p.name, p.default) for p in signature.parameters.values()] == \
            [(name, default) for name, default, _, _ in expected]
        params = cls().get_params()
        assert list(params) == sorted(name for name, *_ in expected)  # scikit-learn sorts
        for name, default, _, _ in expected:
            assert params[name] == default, name
            assert type(params[name]) is type(default), name

    @pytest.mark.parametrize("index", [0, 1], ids=["classifier", "regressor"])
    def test_docstring_has_every_parameter_with_its_default(self, index):
        cls = _estimator_classes()[index]
        for name, default, kind, doc in _expected_estimator_parameters(cls):
            assert _documents(cls.__doc__, name, kind, doc, default, with_default=True), name

    def test_no_drift_in_what_the_docs_say(self):
        for cls in _estimator_classes():
            text = " ".join(cls.__doc__.split())
            assert '``"dask"``' in text
            assert "CUDA graphs" in text  # compile is not JAX-only

    def test_every_train_option_the_estimators_take_reaches_train(self, monkeypatch):
        classifier, _ = _estimator_classes()
        seen = {}

        def fake_train(X, Y, **options):
            seen.update(options)
            raise RuntimeError("captured")

        monkeypatch.setattr(pnn, "train", fake_train)
        with pytest.raises(RuntimeError, match="captured"):
            classifier().fit([[0.0], [1.0], [0.0], [1.0]], [0, 1, 0, 1])
        taken = {spec.name for spec in OPTIONS if spec.estimator is True}
        assert set(seen) == taken | {"output"}
        for spec in OPTIONS:
            if spec.estimator is True:
                assert seen[spec.name] == spec.default, spec.name


class TestCommandLine:
    @pytest.mark.parametrize("command", ["train", "predict"])
    def test_flags_dest_default_choices_and_help(self, command):
        parser = _subparser(cli.build_parser(), command)
        flags = _flags(parser)
        specs = [spec for spec in (*OPTIONS, *TOOL_OPTIONS) if spec.cli is not None
                 and (command == "train" or spec.name in cli.BACKEND_OPTIONS)]
        assert specs
        for spec in specs:
            action = flags[spec.cli.flag]
            assert action.dest == spec.name, spec.name
            assert action.default == spec.cli_default, spec.name
            choices = spec.cli.choices or spec.choices
            assert (None if action.choices is None else tuple(action.choices)) == choices
            assert spec.cli.help in " ".join(action.help.split()), spec.name
            if spec.cli.metavar is not None:
                assert action.metavar == spec.cli.metavar, spec.name
        generated = {spec.cli.flag for spec in specs}
        assert set(flags) - generated <= CLI_ONLY  # no hand-written flag for an option

    def test_every_option_with_a_flag_is_on_train(self):
        flags = _flags(_subparser(cli.build_parser(), "train"))
        for spec in (*OPTIONS, *TOOL_OPTIONS):
            if spec.cli is not None:
                assert spec.cli.flag in flags, spec.name

    def test_parsed_defaults_are_the_command_line_defaults(self):
        args = cli.build_parser().parse_args(["train", "planar"])
        for spec in (*OPTIONS, *TOOL_OPTIONS):
            if spec.cli is not None:
                assert getattr(args, spec.name) == spec.cli_default, spec.name


FAKE = Option("momentum_clip", 2.5, "float", "A new option added in one place only.",
              check=lambda name, value: float(value),
              cli=Cli("--momentum-clip", "clip the momentum", text="real", metavar="C"))


class TestAddingAnOption:
    """A new option in a copy of the specification shows up in the derived interfaces."""

    def test_on_the_command_line(self):
        parser = cli._Parser(prog="p")
        cli.add_option_flags(parser, parser, (*OPTIONS, FAKE))
        action = _flags(parser)["--momentum-clip"]
        assert (action.dest, action.default, action.metavar) == ("momentum_clip", 2.5, "C")
        assert "clip the momentum (default: 2.5)" in action.help
        assert parser.parse_args(["--momentum-clip", "3"]).momentum_clip == 3.0

    def test_checked_by_its_own_check(self, capsys):
        strict = replace(FAKE, check=lambda name, value: pytest.fail("never called")
                         if value == 2.5 else (_ for _ in ()).throw(ValueError(f"{name} bad")))
        parser = cli._Parser(prog="p")
        cli.add_option_flags(parser, parser, (strict,))
        parser.parse_args([])  # the default is not checked again
        with pytest.raises(SystemExit):
            parser.parse_args(["--momentum-clip", "3"])
        assert "argument --momentum-clip: momentum_clip bad" in capsys.readouterr().err

    def test_in_the_estimators(self):
        sklearn = _tools_sklearn()
        specs = sklearn.estimator_parameters((*OPTIONS, FAKE), TOOL_OPTIONS,
                                             learning_rate=0.1)
        init = sklearn.make_init(specs)
        signature = inspect.signature(init)
        assert signature.parameters["momentum_clip"].default == 2.5
        assert list(signature.parameters)[-3] == "momentum_clip"  # before the tool options
        assert signature.parameters["learning_rate"].default == 0.1

        class Holder:
            pass

        holder = Holder()
        init(holder, momentum_clip=1.0)
        assert holder.momentum_clip == 1.0
        assert holder.early_stopping is False

    def test_unknown_override_is_refused(self):
        sklearn = _tools_sklearn()
        with pytest.raises(TypeError, match="learning_rat"):
            sklearn.estimator_parameters(learning_rat=0.1)
