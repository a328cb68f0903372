"""chainrule's nn: neurons, layers and MLPs built from autograd Values, and their training.

Example (the course's exercise 1, part 1):
    >>> import nn
    >>> model = nn.MLP(2, [3, 2], activation="sigmoid", output_activation="sigmoid", init=1.0)
    >>> [y.data for y in model([0.0, 1.0])]
    [0.9744787489988975, 0.9744787489988975]
"""

from __future__ import annotations

from . import _autograd_check  # noqa: F401  (first: the autograd below must be chainrule's)
from . import init
from .autoencoder import Autoencoder
from .activations import (ACTIVATIONS, ELU, SELU, Activation, Identity, Lambda, LeakyReLU, PReLU,
                          ReLU, RReLU, Sigmoid, Sign, Sin, Sinc, SoftExponential, Softplus, Softsign,
                          Step, Tanh, resolve_activation)
from .functional import log_softmax, softmax
from .competitive import Competitive, CompetitiveHistory
from .hopfield import Hopfield, HopfieldRecall
from .layers import MLP, Layer, Neuron, Sequential
from .maxout import Maxout, MaxoutUnit
from .losses import (LOSSES, Loss, binary_cross_entropy, binary_cross_entropy_with_logits,
                     cross_entropy, hinge, l2_penalty, mse, resolve_loss, squared_error,
                     sum_squared_error)
from .module import Module
from .optim import SGD, Adam, ExponentialDecay, LinearDecay, Optimizer
from .perceptron import Perceptron, PerceptronHistory, perceptron_trick
from .rbm import RBM
from .recurrent import Elman, Jordan, Recurrent, Unrolled, sequence_loss
from .registry import MODULES, load, register_module, save
from .serialization import FORMAT, VERSION, ModelFileError, read_model_file
from .checks import check_data, check_inputs
from .step import BatchResult, BatchStep, LossAndGrad
from .torch_bridge import from_torch, to_torch  # torch itself loads on the first call
from .train import Evaluation, History, evaluate, fit, gradcheck, predict

__all__ = [
    # modules
    "Module", "Sequential", "Neuron", "Layer", "MLP", "Maxout", "MaxoutUnit", "Perceptron", "init",
    "Recurrent", "Elman", "Jordan", "Unrolled", "sequence_loss", "Autoencoder", "RBM",
    "Hopfield", "HopfieldRecall", "Competitive", "CompetitiveHistory",
    # activations
    "Activation", "Identity", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "PReLU", "RReLU", "ELU",
    "SELU", "Softplus", "Softsign", "SoftExponential", "Sin", "Sinc", "Step", "Sign", "Lambda",
    "ACTIVATIONS", "resolve_activation", "softmax", "log_softmax",
    # losses
    "squared_error", "sum_squared_error", "mse", "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy", "hinge", "l2_penalty", "Loss", "LOSSES", "resolve_loss",
    # optimizers
    "Optimizer", "SGD", "Adam", "LinearDecay", "ExponentialDecay",
    # training
    "fit", "History", "LossAndGrad", "BatchStep", "BatchResult", "evaluate", "Evaluation", "predict",
    "check_data", "check_inputs", "gradcheck", "PerceptronHistory", "perceptron_trick",
    # PyTorch
    "to_torch", "from_torch",
    # files
    "save", "load", "read_model_file", "ModelFileError", "FORMAT", "VERSION", "MODULES",
    "register_module",
]
