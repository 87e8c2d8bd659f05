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
# # Chapter 5: why are deep neural networks hard to train?
#
# From the repository root, one line installs jaxnn with what the notebooks need:
#
# ```
# pip install -e ".[plot,notebooks]"
# ```
#
# On a GPU, add JAX's CUDA wheels (`pip install "jaxnn[cuda]"`, here `pip install -e ".[cuda]"`): the code
# below runs unchanged, on the GPU. The short version follows the speed of learning for 30 full-batch steps;
# `JAXNN_FULL=1` in the environment, or `FULL = True` below, runs the book's 500.

# %%
import functools
import os

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import jaxnn

FULL = os.environ.get("JAXNN_FULL") == "1"
EPOCHS = 500 if FULL else 30
DEPTHS = (1, 2, 3, 4)
data = jaxnn.load_mnist()
x, labels = data.training.x[:1000], data.training.y[:1000]  # the book's generate_gradient.py uses 1,000 images


def network(hidden):
    """[784, 30, ..., 30, 10]: sigmoid, cross-entropy, network2's N(0, 1/n_in) weights."""
    return jaxnn.mlp([784] + [30] * hidden + [10], cost="cross-entropy", init="default", regularizer="l2")


# %% [markdown]
# ## The speed of learning of each layer
#
# The book measures how fast each hidden layer learns by $\|\delta^l\|$, the length of the gradient
# $\partial C / \partial b^l$ over the 1,000 images. Before any training, the earlier layers learn much more slowly:


# %%
@functools.partial(jax.jit, static_argnums=0)  # a Network is hashable: one compiled function per network
def bias_norms(net, params):
    grads = jaxnn.backprop(params, x, labels, net=net)
    return jnp.stack([jnp.linalg.norm(g["b"]) for g in grads[:-1]])  # hidden layers, first first


def speeds(net, params):
    return np.asarray(bias_norms(net, params))


BOOK = {2: (0.07, 0.31), 3: (0.012, 0.060, 0.283), 4: (0.003, 0.017, 0.070, 0.285)}
for hidden in DEPTHS:
    net = network(hidden)
    params = jaxnn.init_network(jax.random.key(0), net)
    print(f"{hidden} hidden layer(s): ‖δ^l‖ = {np.round(speeds(net, params), 3)}; the book: {BOOK.get(hidden, '-')}")

# %% [markdown]
# ## While training
#
# Full-batch gradient descent on the 1,000 images (one mini-batch of 1,000 per epoch), η = 0.1, λ = 5, as in the
# book. A `callback` records the speeds after each epoch.

# %%
curves = {}
for hidden in DEPTHS[1:]:
    net = network(hidden)
    params = jaxnn.init_network(jax.random.key(0), net)
    record = [speeds(net, params)]
    jaxnn.sgd(
        params,
        jaxnn.Split(x, labels),
        EPOCHS,
        1000,
        0.1,
        key=jax.random.key(1),
        net=net,
        lmbda=5.0,
        monitor_evaluation_accuracy=False,
        callback=lambda epoch, p, history: record.append(speeds(net, p)),
    )
    curves[hidden] = np.stack(record)

fig, axes = plt.subplots(1, len(curves), figsize=(4 * len(curves), 3), squeeze=False)
for ax, (hidden, c) in zip(axes[0], curves.items()):
    for l in range(hidden):
        ax.plot(c[:, l], label=f"hidden layer {l + 1}")
    ax.set(yscale="log", title=f"{hidden} hidden layers", xlabel="epoch")
    ax.legend(fontsize=7)
axes[0, 0].set_ylabel("speed of learning ‖δ^l‖")
plt.show()

# %% [markdown]
# ## Why: a product of small factors
#
# By BP2, $\delta^l = \left((w^{l+1})^T \delta^{l+1}\right) \odot \sigma'(z^l)$, so the error reaching layer 1 of a
# deep network is a product of terms $w_j \sigma'(z_j)$. With $|w| \lesssim 1$ and $\sigma' \le 1/4$ these are mostly
# below 1/4, and the gradient shrinks by that factor per layer (the vanishing gradient). Here is their
# distribution in the 4-hidden-layer network at initialisation:

# %%
net = network(4)
params = jaxnn.init_network(jax.random.key(0), net)
zs, acts = jaxnn.feedforward(net, params, x)
factors = []
for l in range(1, 4):
    sp = jax.nn.sigmoid(zs[l]) * (1 - jax.nn.sigmoid(zs[l]))  # σ'(z) of hidden layer l + 1
    factors.append(np.abs(np.asarray(params[l]["w"])[None] * np.asarray(sp)[:, :, None]).ravel())
factors = np.concatenate(factors)
fig, ax = plt.subplots(figsize=(5, 3))
ax.hist(factors, bins=60)
ax.set(xlabel="|w σ'(z)|", ylabel="count")
print(f"median |w σ'(z)| = {np.median(factors):.3f}; fraction below 1/4: {np.mean(factors < 0.25):.3f}")

# %% [markdown]
# ## Hand-written backprop beside `jax.grad`, four layers deep

# %%
grads = jaxnn.backprop(params, x[:100], labels[:100], net=net)
auto = jaxnn.autodiff_grad(params, x[:100], labels[:100], net=net)
for l, (g1, g2) in enumerate(zip(grads, auto)):
    print(
        f"layer {l}: ‖∂C/∂b‖ = {float(jnp.linalg.norm(g1['b'])):.4f}, "
        f"max |backprop - jax.grad| = {max(float(jnp.max(jnp.abs(g1[k] - g2[k]))) for k in g1):.1e}"
    )
