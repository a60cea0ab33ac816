"""A multi-layer perceptron built from layers.py, its SGD training loop and a gradient checker.

NumPy only. Import what you need from your own layers.py, for example
`from layers import linear_forward, linear_backward` (both files sit in the same folder).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu")


class MLP:
    """Fully connected network: (linear -> activation) for every hidden layer, then a final
    linear layer whose output (the scores, or logits) has no activation.

    Attributes the grader reads and writes (see README.md, "The MLP class"):
    - params: dict with "W1", "b1", ..., "WL", "bL" for L = len(dims) - 1 linear layers;
      Wi has shape (dims[i], dims[i-1]) and bi has shape (dims[i],).
    - grads: dict with the same keys and shapes, filled by backward().
    """

    def __init__(
        self,
        dims: Sequence[int],
        activation: str | Sequence[str] = "relu",
        negative_slope: float = 0.01,
        rng: np.random.Generator | None = None,
    ) -> None:
        """Build the layers and initialise the parameters.

        dims = [D_in, H_1, ..., H_(L-1), D_out]. activation is one name from ACTIVATIONS used
        by every hidden layer, or a list with one name per hidden layer (len(dims) - 2 names).
        negative_slope is the slope of every leaky_relu layer. Initialise with rng (use
        np.random.default_rng() when it is None), layer by layer for i = 1..L in that order:
            Wi = rng.standard_normal((dims[i], dims[i-1])) * np.sqrt(2.0 / dims[i-1])
            bi = np.zeros(dims[i])
        """
        # TODO: store the settings, fill self.params and self.grads.
        raise NotImplementedError("MLP.__init__")

    def forward(self, x: np.ndarray) -> np.ndarray:
        """Scores (N, D_out) for a batch x (N, D_in).

        Read the weights from self.params on every call (the grader replaces them), and keep
        the caches that the next backward() needs.
        """
        # TODO
        raise NotImplementedError("MLP.forward")

    def backward(self, dout: np.ndarray) -> np.ndarray:
        """Backpropagate dout = dL/dscores (N, D_out) through the last forward().

        Overwrite (do not add to) self.grads[name] with dL/dparams[name] for every parameter
        and return dL/dx, shape (N, D_in).
        """
        # TODO
        raise NotImplementedError("MLP.backward")


def train(
    net: MLP,
    x: np.ndarray,
    y: np.ndarray,
    epochs: int,
    lr: float,
    batch_size: int,
    rng: np.random.Generator,
) -> list[float]:
    """Train net with mini-batch SGD on softmax cross-entropy; return one number per epoch.

    x: (N, D_in) inputs, y: (N,) integer labels. Every epoch: shuffle with
    order = rng.permutation(N), walk through order in batches of batch_size (the last one
    may be smaller), and for each batch run forward, softmax_cross_entropy, backward, then
    update every parameter in place: net.params[name] -= lr * net.grads[name].
    Return the mean of the batch losses of each epoch (a list of `epochs` floats).
    """
    # TODO
    raise NotImplementedError("train")


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5
) -> np.ndarray:
    """Central-difference gradient of a scalar function f at x (any shape, float64).

    For every entry i: grad[i] = (f(x + h e_i) - f(x - h e_i)) / (2 h), where e_i is 1 at
    entry i and 0 elsewhere. Returns an array shaped like x; x must be unchanged on return.
    """
    # TODO
    raise NotImplementedError("numerical_gradient")
