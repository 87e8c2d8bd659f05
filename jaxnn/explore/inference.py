"""What view 1 computes: loading a model, MNIST's preprocessing of a drawn digit, and one
compiled forward pass per model that returns every layer's activations."""

from __future__ import annotations

import dataclasses
import functools
import json
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxnn.errors import JaxnnError

#: The side of MNIST's images, and of the box the digit is scaled into (MNIST's own numbers).
SIDE, BOX = 28, 20


def load_network(path) -> Tuple[Any, list, Dict[str, Any]]:
    """``(net, params, meta)`` from a jaxnn model file (``.npz``) or a network2 JSON file.

    The one place where explore reads a model file.
    """
    import jaxnn
    from jaxnn import modelfile

    path = Path(path)
    if not path.is_file():
        raise JaxnnError(f"no model file at {path}: give a jaxnn .npz (jaxnn train --save) or a network2 JSON file")
    with open(path, "rb") as f:
        head = f.read(2)
    if head == b"PK":  # a zip: numpy's .npz, any network
        return jaxnn.load_network(path)
    params, meta = modelfile.load_network2(path)  # network2's JSON, whatever the file is named
    components = {k: meta[k] for k in ("cost", "activation", "output_activation") if meta.get(k) is not None}
    net = jaxnn.mlp(meta["sizes"], **components)
    return net, params, meta


def load_bytes(blob: bytes, name: str = "upload") -> Tuple[Any, list, Dict[str, Any]]:
    """`load_network` on bytes received from the page (written to a private temporary file)."""
    suffix = ".npz" if blob[:2] == b"PK" else ".json"
    with tempfile.TemporaryDirectory(prefix="jaxnn-explore-") as d:
        path = Path(d) / f"model{suffix}"
        path.write_bytes(blob)
        try:
            return load_network(path)
        except JaxnnError as exc:  # the message names the temporary file: name the upload instead
            raise JaxnnError(str(exc).replace(str(path), name)) from None


def _area_matrix(n_out: int, n_in: int) -> np.ndarray:
    """``(n_out, n_in)`` weights that average the input over each output cell (area resampling)."""
    edges = np.linspace(0.0, n_in, n_out + 1)
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        lo, hi = edges[i], edges[i + 1]
        for j in range(int(np.floor(lo)), min(int(np.ceil(hi)), n_in)):
            m[i, j] = min(hi, j + 1) - max(lo, j)
        m[i] /= hi - lo
    return m


def preprocess(image: np.ndarray) -> np.ndarray:
    """MNIST's preprocessing of a drawn digit (grey levels in [0, 1], ink high): the digit's
    bounding box scaled, keeping its aspect ratio, to fit 20×20; then placed in 28×28 with its
    centre of mass at the centre. Returns ``(784,)`` float32 (all zeros for an empty drawing)."""
    image = np.asarray(image, dtype=np.float64)
    rows, cols = np.nonzero(image > 0.05)
    if rows.size == 0:
        return np.zeros(SIDE * SIDE, np.float32)
    crop = image[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    h, w = crop.shape
    side = max(h, w)
    square = np.zeros((side, side))
    square[(side - h) // 2 : (side - h) // 2 + h, (side - w) // 2 : (side - w) // 2 + w] = crop
    r = _area_matrix(BOX, side)
    box = r @ square @ r.T
    total = box.sum()
    ys, xs = np.indices(box.shape)
    cy, cx = (ys * box).sum() / total, (xs * box).sum() / total
    out = np.zeros((SIDE, SIDE))
    top = int(np.clip(round(SIDE / 2 - 0.5 - cy), 0, SIDE - BOX))
    left = int(np.clip(round(SIDE / 2 - 0.5 - cx), 0, SIDE - BOX))
    out[top : top + BOX, left : left + BOX] = box
    return np.clip(out / max(out.max(), 1e-12), 0.0, 1.0).astype(np.float32).reshape(-1)


@functools.lru_cache(maxsize=32)
def _inside_fn(net):
    """Compiled ``(params, x) -> (hidden outputs, output, contributions of the first layer's units)``.

    A contribution is a unit's activation times the gradient of the predicted class's weighted
    input with respect to it (summed over a feature map), so the units are ranked by how much
    they pushed the prediction up or down.
    """
    from jaxnn.net import as_batch, hidden, masks, output_z

    def run(params, x):
        xb = as_batch(net, x)
        mults = masks(net, None, xb.shape[0], xb.dtype, train=False)
        inputs, _ = hidden(net, params, xb, mults)
        z = output_z(net, params, x, mults)
        a = net.output_activation.fn(z)
        return inputs[1:], a, z

    def inside(params, x):
        hiddens, a, z = run(params, x)
        if not hiddens:
            return hiddens, a[0], jnp.zeros((0,), a.dtype)
        k = jnp.argmax(z[0])
        sub = _subnet(net)

        def z_from_first(h):  # the predicted class's z from the first layer's output
            return output_z(sub, params[1:], h)[0, k]

        g = jax.grad(z_from_first)(hiddens[0])
        contrib = (g * hiddens[0])[0]
        contrib = contrib.reshape(contrib.shape[0], -1).sum(axis=1)
        return hiddens, a[0], contrib

    return jax.jit(inside)


def _subnet(net):
    """The network without its first layer."""
    from jaxnn.net import network

    return network(net.layers[1:], net.shapes[1], net.cost, net.regularizer)


@dataclasses.dataclass
class LoadedModel:
    """A network, its parameters (float32, on the device) and what the page needs about it."""

    net: Any
    params: list
    meta: Dict[str, Any]
    name: str
    _test: Optional[Tuple[np.ndarray, np.ndarray]] = None  # (predicted, output) on the test data

    @classmethod
    def make(cls, net, params, meta, name: str) -> "LoadedModel":
        params = jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float32), params)
        model = cls(net, params, dict(meta), name)
        if int(np.prod(net.in_shape)) != SIDE * SIDE:
            raise JaxnnError(f"{name}: the network takes inputs of shape {net.in_shape}; explore shows 28×28 digits")
        model.predict(np.zeros(SIDE * SIDE, np.float32))  # compile now, not on the first drawn digit
        return model

    def describe(self) -> Dict[str, Any]:
        layers = []
        for layer, shape in zip(self.net.layers, self.net.shapes[1:]):
            layers.append(
                {"name": layer.name, "shape": list(shape), "config": {k: _jsonable(v) for k, v in layer.config}}
            )
        meta = {k: v for k, v in self.meta.items() if isinstance(v, (str, int, float, bool, list)) or v is None}
        return {
            "name": self.name,
            "kind": "mlp" if self.net.sizes is not None else "conv",
            "sizes": self.net.sizes,
            "in_shape": list(self.net.in_shape),
            "layers": layers,
            "cost": self.net.cost.name,
            "meta": meta,
        }

    def predict(self, x: np.ndarray) -> Dict[str, Any]:
        """Every layer's activations for one ``(784,)`` input."""
        xb = jnp.asarray(np.asarray(x, np.float32).reshape((1, *self.net.in_shape)))
        hiddens, out, contrib = _inside_fn(self.net)(self.params, xb)
        hiddens = [np.asarray(h[0]) for h in hiddens]
        out = np.asarray(out)
        layers = []
        for h in hiddens:
            if h.ndim == 1:
                layers.append({"shape": list(h.shape), "values": _round(h)})
            else:  # feature maps (filters, rows, cols)
                layers.append({"shape": list(h.shape), "values": _round(h.reshape(-1))})
        return {
            "output": _round(out),
            "predicted": int(np.argmax(out)),
            "activations": layers,
            "contributions": _round(np.asarray(contrib)),
        }

    def first_weights(self) -> Dict[str, Any]:
        """The first layer's incoming weights: one 28×28 image per hidden neuron, or the conv filters."""
        w = np.asarray(self.params[0]["w"])
        if self.net.sizes is not None:
            images = w.reshape(w.shape[0], SIDE, SIDE)
        else:
            images = w.reshape(w.shape[0], w.shape[-2], w.shape[-1])  # (filters, in, k, k): the first channel
        return {"count": int(images.shape[0]), "shape": list(images.shape[1:]), "values": _round(images.reshape(-1))}

    def test_results(self, x: np.ndarray, y: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
        """``(predicted labels, true labels)`` on the test data, computed once."""
        if self._test is None:
            import jaxnn

            predicted = np.asarray(jaxnn.predict(self.params, jnp.asarray(x, jnp.float32), net=self.net))
            self._test = (predicted, np.asarray(y))
        return self._test


def _jsonable(v):
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    name = getattr(v, "name", None)
    return name if isinstance(name, str) else str(v)


def _round(a: np.ndarray) -> List[float]:
    """Floats for JSON with 4 significant decimals (the page draws them; less to send)."""
    return np.round(np.asarray(a, np.float64), 4).tolist()


def confusion(predicted: np.ndarray, labels: np.ndarray, n: int = 10) -> List[List[int]]:
    """``m[true][predicted]`` counts."""
    m = np.zeros((n, n), np.int64)
    np.add.at(m, (labels, predicted), 1)
    return m.tolist()


def dumps(obj) -> bytes:
    return json.dumps(obj, separators=(",", ":")).encode()
