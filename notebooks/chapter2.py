# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 2: how backpropagation works
#
# From the repository root, one line installs jaxnn with what the notebooks need:
#
# ```
# pip install -e ".[plot,notebooks]"
# ```
#
# On a GPU, add JAX's CUDA wheels (`pip install "jaxnn[cuda]"`, here `pip install -e ".[cuda]"`): the code
# below runs unchanged, on the GPU. The short version (under a minute) checks a sample of the weights by finite
# differences; `JAXNN_FULL=1` in the environment, or `FULL = True` below, checks every weight of the output
# layer.
#
# The chapter's four equations, for a network with weighted inputs $z^l = w^l a^{l-1} + b^l$ and activations
# $a^l = \sigma(z^l)$, where $\delta^l = \partial C / \partial z^l$:
#
# $$
# \begin{aligned}
# \delta^L &= \nabla_a C \odot \sigma'(z^L) && \text{(BP1)} \\
# \delta^l &= \left((w^{l+1})^T \delta^{l+1}\right) \odot \sigma'(z^l) && \text{(BP2)} \\
# \frac{\partial C}{\partial b^l_j} &= \delta^l_j && \text{(BP3)} \\
# \frac{\partial C}{\partial w^l_{jk}} &= a^{l-1}_k \delta^l_j && \text{(BP4)}
# \end{aligned}
# $$

# %%
import os
import time

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import jaxnn

jax.config.update("jax_enable_x64", True)  # float64, so that the gradients can be compared to ~1e-15

FULL = os.environ.get("JAXNN_FULL") == "1"
N_CHECKED = None if FULL else 50  # weights of the output layer checked by finite differences (None: all 300)

# %% [markdown]
# ## A network and a mini-batch
#
# network.py's [784, 30, 10] network (sigmoid, quadratic cost $C = \frac{1}{2n}\sum_x \|y(x) - a^L(x)\|^2$),
# in float64, and 10 training images with their one-hot targets.

# %%
data = jaxnn.load_mnist()
net = jaxnn.mlp([784, 30, 10], activation="sigmoid", cost="quadratic", init="large")
params = jaxnn.init_network(jax.random.key(0), net, dtype=jnp.float64)
x = jnp.asarray(data.training.x[:10], jnp.float64)
labels = data.training.y[:10]
y = jax.nn.one_hot(labels, 10, dtype=jnp.float64)
print(f"cost on the mini-batch: {jaxnn.loss(params, x, labels, net=net):.6f}")

# %% [markdown]
# ## BP1–BP4 by hand
#
# `jaxnn.feedforward` keeps every layer's $z^l$ and $a^l$, as network.py's `backprop` does. The rest is the four
# equations, row by row of the mini-batch (rows are examples, so $w a$ is written `a @ w.T`), averaged over the
# batch as the cost is.


# %%
def sigmoid_prime(z):
    s = jax.nn.sigmoid(z)
    return s * (1 - s)


def backprop_by_hand(params, x, y):
    zs, acts = jaxnn.feedforward(net, params, x)
    n = x.shape[0]
    delta = (acts[-1] - y) * sigmoid_prime(zs[-1])  # BP1, with ∇_a C = a - y for the quadratic cost
    grads = [None] * len(params)
    for l in reversed(range(len(params))):
        grads[l] = {"w": delta.T @ acts[l] / n, "b": delta.mean(axis=0)}  # BP4 and BP3
        if l > 0:
            delta = (delta @ params[l]["w"]) * sigmoid_prime(zs[l - 1])  # BP2
    return grads


by_hand = backprop_by_hand(params, x, y)
by_jaxnn = jaxnn.backprop(params, x, labels, net=net)  # jaxnn's hand-written backprop (every layer type)
by_jax = jax.grad(lambda p: jaxnn.loss(p, x, labels, net=net))(params)  # automatic differentiation


def max_diff(a, b):
    return max(float(jnp.max(jnp.abs(u - v))) for u, v in zip(jax.tree.leaves(a), jax.tree.leaves(b)))


print(f"this notebook's BP1-BP4 vs jax.grad:  {max_diff(by_hand, by_jax):.1e}")
print(f"jaxnn.backprop vs jax.grad:           {max_diff(by_jaxnn, by_jax):.1e}")
print(f"jaxnn.autodiff_grad vs jax.grad:      {max_diff(jaxnn.autodiff_grad(params, x, labels, net=net), by_jax):.1e}")

# %% [markdown]
# ## The error δ layer by layer
#
# BP2 carries the error back through $(w^{l+1})^T$ and shrinks it by $\sigma'(z^l) \le 1/4$. Here is
# $|\delta^l|$ of the first image, for the hidden layer and the output layer.

# %%
zs, acts = jaxnn.feedforward(net, params, x)
delta_out = (acts[-1] - y) * sigmoid_prime(zs[-1])
delta_hidden = (delta_out @ params[1]["w"]) * sigmoid_prime(zs[0])
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 2.8))
ax1.bar(range(30), np.abs(delta_hidden[0]))
ax1.set(title="|δ| of the hidden layer (30 neurons)", xlabel="neuron")
ax2.bar(range(10), np.abs(delta_out[0]))
ax2.set(title=f"|δ| of the output layer (label {labels[0]})", xlabel="neuron")
plt.show()

# %% [markdown]
# ## Why backpropagation: one pass instead of one per weight
#
# The chapter's argument: estimating $\partial C/\partial w_j \approx (C(w + \epsilon e_j) - C(w))/\epsilon$
# costs one forward pass per weight, and this small network has 23,860 of them; backpropagation gets all of
# them in about the cost of two passes. Central differences on the output layer's weights agree with backprop:

# %%
w = params[1]["w"]


@jax.jit
def cost_shifted(j, k, e):  # the cost with output weight w[j, k] moved by e
    return jaxnn.loss([params[0], {"w": w.at[j, k].add(e), "b": params[1]["b"]}], x, labels, net=net)


indices = list(np.ndindex(w.shape))[:N_CHECKED]
eps = 1e-6
cost_shifted(0, 0, eps).block_until_ready()  # compile once
start = time.perf_counter()
numeric = [(cost_shifted(j, k, eps) - cost_shifted(j, k, -eps)) / (2 * eps) for j, k in indices]
finite_seconds = time.perf_counter() - start
exact = np.array([by_jaxnn[1]["w"][j, k] for j, k in indices])
print(f"{len(indices)} weights: max |finite difference - backprop| = {np.max(np.abs(np.array(numeric) - exact)):.1e}")

grad = jax.jit(lambda p: jaxnn.backprop(p, x, labels, net=net))
jax.block_until_ready(grad(params))
backprop_seconds = float("inf")
for _ in range(10):  # the fastest of 10 calls
    start = time.perf_counter()
    jax.block_until_ready(grad(params))
    backprop_seconds = min(backprop_seconds, time.perf_counter() - start)
n_weights = sum(p.size for p in jax.tree.leaves(params))
print(
    f"finite differences: {finite_seconds / (2 * len(indices)) * 1e3:.3f} ms per cost evaluation, "
    f"so about {finite_seconds / len(indices) * n_weights:.1f} s for all {n_weights} parameters"
)
print(f"backprop: {backprop_seconds * 1e3:.3f} ms for all of them (timings of this machine, at this moment)")
