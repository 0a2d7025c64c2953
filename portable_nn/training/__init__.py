"""The training layer: ``train``, ``Model``, initialisation, validation and errors.

It assembles the array-API core (:mod:`portable_nn.core`) with the backend selector
(:mod:`portable_nn.backend`).
"""

from portable_nn.training._callbacks import Callback, Run
from portable_nn.training._chance import ChanceLevelWarning, chance_level
from portable_nn.training._errors import TrainingDivergedError
from portable_nn.training._export import from_torch
from portable_nn.training._init import init_params
from portable_nn.training._model import Costs, Model
from portable_nn.training._options import (
    OPTIONS,
    TOOL_OPTIONS,
    Cli,
    EstimatorParam,
    Option,
    TrainOptions,
    numpydoc_parameters,
)
from portable_nn.training._persistence import ModelFileError, load
from portable_nn.training._train import train

__all__ = [
    "OPTIONS",
    "TOOL_OPTIONS",
    "Callback",
    "ChanceLevelWarning",
    "Cli",
    "Costs",
    "EstimatorParam",
    "Model",
    "ModelFileError",
    "Option",
    "Run",
    "TrainOptions",
    "TrainingDivergedError",
    "chance_level",
    "from_torch",
    "init_params",
    "load",
    "numpydoc_parameters",
    "train",
]
