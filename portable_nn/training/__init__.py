"""The training layer: ``train``, ``Model``, initialisation, validation and errors.

It assembles the array-API core (:mod:`portable_nn.core`) with the backend selector
(:mod:`portable_nn.backend`).
"""

from portable_nn.training._callbacks import Callback, Run
from portable_nn.training._chance import ChanceLevelWarning, chance_level
from portable_nn.training._errors import TrainingDivergedError
from portable_nn.training._init import init_params
from portable_nn.training._model import Costs, Model, from_torch, host_to_model, load, model_to_host
from portable_nn.training._options import (
    OPTIONS,
    RECIPES,
    TOOL_OPTIONS,
    Cli,
    EstimatorParam,
    Option,
    TrainOptions,
    numpydoc_parameters,
)
from portable_nn.training._persistence import ModelFileError
from portable_nn.training._snapshot import ModelFields, ModelSnapshot
from portable_nn.training._train import train

__all__ = [
    "OPTIONS",
    "RECIPES",
    "TOOL_OPTIONS",
    "Callback",
    "ChanceLevelWarning",
    "Cli",
    "Costs",
    "EstimatorParam",
    "Model",
    "ModelFields",
    "ModelFileError",
    "ModelSnapshot",
    "Option",
    "Run",
    "TrainOptions",
    "TrainingDivergedError",
    "chance_level",
    "from_torch",
    "host_to_model",
    "init_params",
    "load",
    "model_to_host",
    "numpydoc_parameters",
    "train",
]
