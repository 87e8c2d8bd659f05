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
# # Exercises from the book, worked with jaxnn
#
# From the repository root, one line installs jaxnn with what the notebooks need:
#
# ```
# pip install -e ".[plot,notebooks]"
# ```
#
# On a GPU, add JAX's CUDA wheels (`pip install "jaxnn[cuda]"`, here `pip install -e ".[cuda]"`): the code
# below runs unchanged, on the GPU. Each exercise is a few cells; the written answers, with the derivations,
# are on the site's Exercises pages (docs/exercises/), and `examples/ex_*.py` runs each one at full length.
# The short version trains the no-hidden-layer network for 3 epochs on 10,000 images; `JAXNN_FULL=1`, or
# `FULL = True` below, trains it for 30 epochs on all 50,000.

# %%
import os

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import jaxnn

FULL = os.environ.get("JAXNN_FULL") == "1"
N_TRAIN, EPOCHS = (50_000, 30) if FULL else (10_000, 3)
data = jaxnn.load_mnist()

# %% [markdown]
# ## Chapter 1: sigmoid neurons simulating perceptrons
#
# Multiplying a perceptron's weights and bias by $c > 0$ changes nothing: the sign of $w \cdot x + b$ stays. A sigmoid
# neuron with $cw, cb$ tends to the perceptron as $c \to \infty$, except where $w \cdot x + b = 0$, where it stays at ½.

# %%
w, b = np.array([0.7, -0.4]), -0.1
xs = np.random.default_rng(0).uniform(-1, 1, size=(1000, 2))
perceptron = (xs @ w + b > 0).astype(float)
away = np.abs(xs @ w + b) > 0.01  # inputs not within 0.01 of the boundary
for c in (1, 10, 100, 1000):
    sigmoid = np.asarray(jax.nn.sigmoid(c * (xs @ w + b)))
    print(
        f"c = {c:4d}: max |sigmoid - perceptron| = {np.max(np.abs(sigmoid - perceptron)[away]):.4f} "
        f"(over the {away.sum()} of 1,000 random inputs with |w·x + b| > 0.01)"
    )
print("at w·x + b = 0:", float(jax.nn.sigmoid(1000 * 0.0)))

# %% [markdown]
# ## Chapter 1: a bitwise representation of the digit
#
# Add a layer of 4 sigmoid neurons after the 10 outputs that turns the answer into its binary digits. If the old
# output layer is right (the correct neuron ≥ 0.99, the others ≤ 0.01), weights of +10 from digit $d$ to bit $k$
# when bit $k$ of $d$ is 1 and −10 otherwise, with no bias, do it.

# %%
bits = np.array([[(d >> k) & 1 for d in range(10)] for k in range(4)])  # (4, 10): bit k of digit d
layer = jaxnn.mlp([10, 4], activation="sigmoid")
params = [{"w": jnp.asarray(np.where(bits, 10.0, -10.0), jnp.float32), "b": jnp.zeros(4, jnp.float32)}]
old_output = np.full((10, 10), 0.01) + np.eye(10) * 0.98  # digit d: neuron d at 0.99, the others at 0.01
new_output = np.asarray(jaxnn.forward(params, old_output, net=layer))
for d in range(10):
    print(d, "->", np.round(new_output[d], 3), "bits", "".join(str(int(v > 0.5)) for v in new_output[d][::-1]))

# %% [markdown]
# ## Chapter 1: a network without a hidden layer
#
# [784, 10], sigmoid, quadratic cost, η = 3.0, N(0, 1/784) initial weights: about 91–92% at full length,
# against 95% with 30 hidden neurons. (With network.py's N(0, 1) weights, half the output neurons start
# saturated, and the run reaches only 58–78%: docs/exercises/no_hidden_layer.md.)

# %%
train = jaxnn.Split(data.training.x[:N_TRAIN], data.training.y[:N_TRAIN])
net = jaxnn.mlp([784, 10], cost="quadratic", init="default")
params = jaxnn.init_network(jax.random.key(0), net)
params, history = jaxnn.sgd(params, train, EPOCHS, 10, 3.0, key=jax.random.key(1), net=net, evaluation_data=data.test)
print("test accuracy per epoch:", [f"{a:.2%}" for a in history.evaluation_accuracy])
fig, axes = plt.subplots(1, 10, figsize=(10, 1.3))
for d, ax in enumerate(axes):  # each output neuron's weights: a template of its digit
    ax.imshow(np.asarray(params[0]["w"][d]).reshape(28, 28), cmap="RdBu")
    ax.set_title(d)
    ax.axis("off")

# %% [markdown]
# ## Chapter 3: the properties of softmax
#
# Softmax outputs are positive and sum to 1; raising $z_j$ raises $a_j$ and lowers every other output; adding a
# constant to every $z$ changes nothing; and as the temperature falls ($c \to \infty$ in $e^{c z_j}/\sum_k e^{c z_k}$)
# it becomes the one-hot of the largest $z$.

# %%
z = jnp.array([1.0, 2.0, 0.5, -1.0])
a = jax.nn.softmax(z)
print("a =", np.round(np.asarray(a), 4), "sum", float(a.sum()))
print("z_1 + 1  ->", np.round(np.asarray(jax.nn.softmax(z.at[1].add(1.0))), 4))
print("z + 100  ->", np.round(np.asarray(jax.nn.softmax(z + 100)), 4))
for c in (1, 10, 100):
    print(f"c = {c:3d}    ->", np.round(np.asarray(jax.nn.softmax(c * z)), 4))

# %% [markdown]
# ## Chapter 3: the cross-entropy gradient, by `jax.grad`
#
# For a sigmoid neuron with the cross-entropy cost, $\partial C/\partial w_j = x_j(\sigma(z) - y)$: no $\sigma'(z)$.


# %%
def cross_entropy(w, b, x, y):
    a = jax.nn.sigmoid(jnp.dot(w, x) + b)
    return -(y * jnp.log(a) + (1 - y) * jnp.log(1 - a))


w, b, x, y = jnp.array([0.3, -1.2, 2.0]), 0.5, jnp.array([1.0, 0.5, -0.3]), 1.0
print("jax.grad:    ", np.asarray(jax.grad(cross_entropy)(w, b, x, y)))
print("x (σ(z) - y):", np.asarray(x * (jax.nn.sigmoid(jnp.dot(w, x) + b) - y)))

# %% [markdown]
# ## Chapter 4: universality with bumps
#
# A pair of steep sigmoid neurons, steps at $s_1 < s_2$, with output weights $+h$ and $-h$, is a bump of height $h$.
# Enough bumps, with heights $f$ at their midpoints, trace any continuous $f$ on $[0, 1]$: a 1-N-1 network with
# a linear output neuron.


# %%
def f(x):
    return 0.2 + 0.4 * x**2 + 0.3 * x * np.sin(15 * x) + 0.05 * np.cos(50 * x)


def bumps(n, steep=10_000.0):
    edges = np.linspace(0.0, 1.0, n + 1)
    edges[0], edges[-1] = -1e-3, 1 + 1e-3
    heights = f((edges[:-1] + edges[1:]) / 2)
    steps = np.stack([edges[:-1], edges[1:]], axis=1).reshape(-1)
    return [
        {"w": jnp.full((2 * n, 1), steep, jnp.float32), "b": jnp.asarray(-steep * steps, jnp.float32)},
        {"w": jnp.asarray(np.stack([heights, -heights], 1).reshape(1, -1), jnp.float32), "b": jnp.zeros(1)},
    ]


grid = np.linspace(0, 1, 2001)
fig, ax = plt.subplots(figsize=(6, 3))
ax.plot(grid, f(grid), "k", lw=2, label="f")
for n in (5, 50):
    approx = np.asarray(jaxnn.forward(bumps(n), grid[:, None], activation="sigmoid", output_activation="linear"))
    ax.plot(grid, approx[:, 0], label=f"{n} bumps, max error {np.max(np.abs(approx[:, 0] - f(grid))):.3f}")
ax.legend(fontsize=8)
plt.show()
