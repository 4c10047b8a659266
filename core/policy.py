"""Torch-free inference: an SB3 MlpPolicy's actor exported to plain numpy arrays.

The actor of an SB3 ActorCriticPolicy with a Discrete action space is
`logits = action_net(mlp_extractor.policy_net(obs))`, policy_net being Linear/activation pairs. The
arrays are saved with `np.savez` and loaded with `allow_pickle=False`, so loading runs no code
(RELIABILITY #8); the web app never imports torch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

ACTIVATIONS = {
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0.0),
}


@dataclass
class NumpyPolicy:
    """A feed-forward actor: hidden layers with one activation, then the action (logit) layer."""

    weights: list[np.ndarray]
    """Weight matrices, shape (in, out), hidden layers first, the action layer last."""
    biases: list[np.ndarray]
    """Bias vectors matching `weights`."""
    activation: str = "tanh"
    """Activation of the hidden layers: 'tanh' (SB3's default) or 'relu'."""

    def __post_init__(self) -> None:
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {self.activation!r}; use one of {sorted(ACTIVATIONS)}")
        if not self.weights or len(self.weights) != len(self.biases):
            raise ValueError("a policy needs at least one layer and one bias per weight matrix")
        for w, b in zip(self.weights, self.biases, strict=True):
            if w.ndim != 2 or b.shape != (w.shape[1],):
                raise ValueError(f"layer shapes do not fit: weight {w.shape}, bias {b.shape}")
        for w0, w1 in zip(self.weights, self.weights[1:], strict=False):
            if w0.shape[1] != w1.shape[0]:
                raise ValueError(f"layer shapes do not chain: {w0.shape} then {w1.shape}")
        self.weights = [np.asarray(w, dtype=np.float32) for w in self.weights]
        self.biases = [np.asarray(b, dtype=np.float32) for b in self.biases]
        self._act = ACTIVATIONS[self.activation]

    @property
    def obs_dim(self) -> int:
        return self.weights[0].shape[0]

    @property
    def n_actions(self) -> int:
        return self.weights[-1].shape[1]

    def logits(self, obs: np.ndarray) -> np.ndarray:
        """Action logits for a batch (N, obs_dim) or one observation (obs_dim,), in float32 like torch."""
        x = np.asarray(obs, dtype=np.float32)
        for w, b in zip(self.weights[:-1], self.biases[:-1], strict=True):
            x = self._act(x @ w + b)
        return x @ self.weights[-1] + self.biases[-1]

    def probs(self, obs: np.ndarray) -> np.ndarray:
        """Softmax of the logits (action probabilities)."""
        z = self.logits(obs).astype(np.float64)
        z = z - z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=-1, keepdims=True)

    def act(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Deterministic actions (argmax, as SB3's predict(deterministic=True)) and their probabilities."""
        p = self.probs(obs)
        return p.argmax(axis=-1), p

    # --- (de)serialisation -------------------------------------------------------------------
    def to_arrays(self) -> dict[str, np.ndarray]:
        arrays: dict[str, np.ndarray] = {"activation": np.array(self.activation)}
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            arrays[f"w{i}"] = w
            arrays[f"b{i}"] = b
        return arrays

    @classmethod
    def from_arrays(cls, arrays) -> NumpyPolicy:
        n = sum(1 for k in arrays.keys() if k.startswith("w"))
        return cls(
            weights=[np.asarray(arrays[f"w{i}"]) for i in range(n)],
            biases=[np.asarray(arrays[f"b{i}"]) for i in range(n)],
            activation=str(arrays["activation"]),
        )

    def save(self, path: str | Path) -> None:
        """Write an .npz (no pickles)."""
        with open(path, "wb") as fh:
            np.savez(fh, **self.to_arrays())

    @classmethod
    def load(cls, path: str | Path) -> NumpyPolicy:
        """Read an .npz written by `save`; never unpickles."""
        with np.load(path, allow_pickle=False) as data:
            return cls.from_arrays({k: data[k] for k in data.files})

    @classmethod
    def from_sb3(cls, model) -> NumpyPolicy:
        """Export the actor of an SB3 PPO/A2C model with an MlpPolicy and a Discrete action space."""
        import torch.nn as nn  # only the trainer has torch; the app loads .npz files

        policy = model.policy
        weights, biases, activation = [], [], None
        for layer in policy.mlp_extractor.policy_net:
            if isinstance(layer, nn.Linear):
                weights.append(layer.weight.detach().cpu().numpy().T.copy())
                biases.append(layer.bias.detach().cpu().numpy().copy())
            elif isinstance(layer, nn.Tanh | nn.ReLU):
                name = "tanh" if isinstance(layer, nn.Tanh) else "relu"
                if activation not in (None, name):
                    raise ValueError("mixed activations are not supported")
                activation = name
            else:
                raise ValueError(f"unsupported layer in policy_net: {layer!r}")
        weights.append(policy.action_net.weight.detach().cpu().numpy().T.copy())
        biases.append(policy.action_net.bias.detach().cpu().numpy().copy())
        return cls(weights=weights, biases=biases, activation=activation or "tanh")
