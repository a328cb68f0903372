"""Autoencoders: networks trained to give back their input through a narrow code.

An autoencoder is an *encoder* (input -> code) followed by a *decoder* (code ->
reconstruction), trained with the input as its own target: ``nn.fit(model, X, X)``.
The narrow code layer forces it to find a compact description of the data: the
classic 8-3-8 encoder learns to name each of 8 one-hot inputs with 3 hidden units,
a binary code of its own.

Example:
    >>> import nn
    >>> model = nn.Autoencoder(8, 3, seed=0)
    >>> len(model.encode([1, 0, 0, 0, 0, 0, 0, 0])), len(model([1, 0, 0, 0, 0, 0, 0, 0]))
    (3, 8)
"""

from __future__ import annotations

from typing import Any
from collections.abc import Mapping, Sequence

import autograd
from autograd import Value

from .activations import Activation, ActivationSpec
from .init import InitSpec, Seed, make_rng
from .layers import MLP, Layer, as_inputs, positive_int
from .module import Module
from .registry import register_module

__all__ = ["Autoencoder"]


@register_module
class Autoencoder(Module):
    """An encoder MLP ``nin -> hidden... -> code`` and its mirror image as decoder.

    Args:
        nin: the size of an input (and of its reconstruction).
        hidden: the code size (an int), or the encoder's layer sizes ending with the
            code size (``[32, 8]`` makes 64-32-8-32-64 for 64 inputs).
        activation: the hidden layers' activation (the code's too).
        output_activation: the reconstruction's activation; defaults to ``activation``
            (``"sigmoid"`` suits inputs in [0, 1] with the ``"bce"`` loss).

    ``encode(x)`` gives the code, ``decode(code)`` a reconstruction, and calling the
    model does both. Their nodes are tagged with the scopes ``"encoder"`` and
    ``"decoder"``.

    Example:
        >>> model = Autoencoder(64, [32, 8], seed=0)
        >>> model.encoder.nouts, model.decoder.nouts
        ([32, 8], [32, 64])
        >>> model
        Autoencoder(nin=64, hidden=[32, 8], activation=sigmoid, parameters=4744)
    """

    def __init__(self, nin: int, hidden: Sequence[int] | int, activation: ActivationSpec = "sigmoid",
                 output_activation: ActivationSpec | None = None, *, init: InitSpec = "uniform",
                 seed: Seed = None) -> None:
        self.nin = positive_int("nin", nin)
        rng = make_rng(seed)
        try:  # the encoder is an MLP whose layer sizes are `hidden`: it checks them
            self.encoder = MLP(self.nin, hidden, activation, activation, init=init, seed=rng)
        except (TypeError, ValueError) as error:
            raise type(error)(f"Autoencoder hidden={hidden!r}: {error}"[:300]) from None
        sizes = self.encoder.nouts
        decoder_sizes = sizes[-2::-1] + [self.nin]
        self.decoder = MLP(sizes[-1], decoder_sizes, activation, output_activation, init=init, seed=rng)

    @property
    def nout(self) -> int:
        """The size of a reconstruction: ``nin``."""
        return self.nin

    @property
    def ncode(self) -> int:
        """The size of the code (the narrowest layer)."""
        return self.encoder.nouts[-1]

    def encode(self, x: Sequence[Value | float]) -> list[Value]:
        """The code of one input: the encoder's last layer.

        Example:
            >>> [round(c.data, 4) for c in Autoencoder(2, 1, init=1.0).encode([0.0, 1.0])]
            [0.8808]
        """
        inputs = as_inputs(x, self.nin, "Autoencoder")
        with autograd.scope("encoder"):
            return self.encoder(inputs)

    def decode(self, code: Sequence[Value | float]) -> list[Value]:
        """The reconstruction a code decodes to.

        Example:
            >>> [round(y.data, 4) for y in Autoencoder(2, 1, init=1.0).decode([0.0])]
            [0.7311, 0.7311]
        """
        code = as_inputs(code, self.ncode, "Autoencoder.decode (a code)")
        with autograd.scope("decoder"):
            return self.decoder(code)

    def forward(self, x: Sequence[Value | float]) -> list[Value]:
        return self.decode(self.encode(x))

    config_fields = ("nin", "hidden", "activation", "output_activation")

    @classmethod
    def parameter_count(cls, config: Mapping[str, Any]) -> int:
        nin, hidden = positive_int("nin", config["nin"]), config["hidden"]
        encoder = {"nin": nin, "nouts": hidden, "activation": config["activation"],
                   "output_activation": config["activation"]}
        count = MLP.parameter_count(encoder)  # checks hidden first
        decoder = {"nin": hidden[-1], "nouts": hidden[-2::-1] + [nin], "activation": config["activation"],
                   "output_activation": config["output_activation"]}
        return count + MLP.parameter_count(decoder)

    def config(self) -> dict[str, Any]:
        return {"type": "Autoencoder", "nin": self.nin, "hidden": self.encoder.nouts,
                "activation": self.encoder.config()["activation"],
                "output_activation": self.decoder.config()["output_activation"]}

    def extra_repr(self) -> str:
        hidden = _activation(self.encoder.layers[0]).describe()
        output = _activation(self.decoder.layers[-1]).describe()
        text = f"nin={self.nin}, hidden={self.encoder.nouts}, activation={hidden}"
        if output != hidden:
            text += f", output_activation={output}"
        return text + f", parameters={len(self.parameters())}"

    _repr_children = False


def _activation(layer: Module) -> Activation:
    """The activation of a layer of an MLP (every neuron of a layer has the same)."""
    assert isinstance(layer, Layer)
    return layer.neurons[0].activation
