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
# # Chapter 1: a network that reads handwritten digits
#
# From the repository root, one line installs jaxnn with what the notebooks need:
#
# ```
# pip install -e ".[plot,notebooks]"
# ```
#
# On a GPU, add JAX's CUDA wheels (`pip install "jaxnn[cuda]"`, here `pip install -e ".[cuda]"`): the code
# below runs unchanged, on the GPU. This notebook runs a short version of the chapter's experiment (a
# few epochs: under 2 minutes on 2 CPU cores); set `JAXNN_FULL=1` in the
# environment, or `FULL = True` below, for the book's full length.

# %%
import os

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import jaxnn

FULL = os.environ.get("JAXNN_FULL") == "1"
N_TRAIN, N_TEST, EPOCHS = (50_000, 10_000, 30) if FULL else (50_000, 10_000, 3)
print(f"{'full' if FULL else 'short'} run: {N_TRAIN} training images, {EPOCHS} epochs; JAX devices: {jax.devices()}")

# %% [markdown]
# ## The data
#
# jaxnn ships the book's MNIST split: 50,000 training, 10,000 validation and 10,000 test images,
# each a row of 784 grey levels in [0, 1], with its digit as the label.

# %%
data = jaxnn.load_mnist()
train = jaxnn.Split(data.training.x[:N_TRAIN], data.training.y[:N_TRAIN])
test = jaxnn.Split(data.test.x[:N_TEST], data.test.y[:N_TEST])
print(data.training.x.shape, data.training.y[:10])

fig, axes = plt.subplots(1, 10, figsize=(10, 1.3))
for ax, x, y in zip(axes, data.training.x, data.training.y):
    ax.imshow(x.reshape(28, 28), cmap="gray_r")
    ax.set_title(int(y))
    ax.axis("off")

# %% [markdown]
# ## A sigmoid neuron
#
# A sigmoid neuron outputs $\sigma(w \cdot x + b)$ with $\sigma(z) = 1/(1 + e^{-z})$. Scaling $w$ and $b$ up
# turns it into a perceptron, a step at $w \cdot x + b = 0$; that smoothness is what lets a small change in a
# weight make a small change in the output.

# %%
z = np.linspace(-6, 6, 200)
fig, ax = plt.subplots(figsize=(5, 2.5))
for c in (1, 3, 30):
    ax.plot(z, jax.nn.sigmoid(c * z), label=f"σ({c}z)")
ax.set(xlabel="z = w·x + b", ylabel="output")
ax.legend()
plt.show()

# %% [markdown]
# ## network.py's network: [784, 30, 10]
#
# Sigmoid everywhere, the quadratic cost $C = \frac{1}{2n}\sum_x \|y(x) - a\|^2$, weights and biases drawn
# from N(0, 1) (`init="large"`), mini-batch 10, η = 3.0.

# %%
net = jaxnn.mlp([784, 30, 10], activation="sigmoid", cost="quadratic", init="large")
params = jaxnn.init_network(jax.random.key(0), net)
print(net)
print([{k: v.shape for k, v in layer.items()} for layer in params])
print(f"before training: {jaxnn.evaluate(params, test.x, test.y, net=net)} / {len(test)} correct")

# %%
params, history = jaxnn.sgd(params, train, EPOCHS, 10, 3.0, key=jax.random.key(1), net=net, evaluation_data=test)
for epoch, correct in zip(history.epoch, history.evaluation_correct):
    print(f"Epoch {epoch}: {correct} / {history.evaluation_size}")
best_epoch, best = history.best()
print(f"best: {best:.2%} at epoch {best_epoch} (the book: 95.42% with all 50,000 images and 30 epochs)")

# %%
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(history.epoch, 100 * np.array(history.evaluation_accuracy), marker="o")
ax.set(xlabel="epoch", ylabel="test accuracy (%)", title="[784, 30, 10], η = 3.0")
plt.show()

# %% [markdown]
# With N(0, 1) weights some runs start with an output neuron saturated for every image, and that digit is not
# predicted for many epochs: the accuracy then climbs in steps of about ten points. The book mentions it in a
# footnote; chapter 3's cross-entropy cost and smaller initial weights are the cure
# (the Results page, docs/results.md, has 10 seeds of it).
#
# ## Inspect: what it gets wrong

# %%
predicted = np.asarray(jaxnn.predict(params, test.x, net=net))
wrong = np.flatnonzero(predicted != test.y)
print(f"{len(wrong)} of {len(test)} test images misclassified")
fig, axes = plt.subplots(1, 10, figsize=(10, 1.5))
for ax, i in zip(axes, wrong[:10]):
    ax.imshow(test.x[i].reshape(28, 28), cmap="gray_r")
    ax.set_title(f"{test.y[i]}→{predicted[i]}", fontsize=9)
    ax.axis("off")

# %% [markdown]
# The confusion matrix: row = true digit, column = the network's answer.

# %%
confusion = np.zeros((10, 10), int)
np.add.at(confusion, (test.y, predicted), 1)
print(confusion)

# %% [markdown]
# ## Hand-written backprop beside `jax.grad`
#
# `jaxnn.sgd` steps with the book's hand-written backpropagation (chapter 2); `jaxnn.autodiff_grad` takes the
# same gradient with `jax.grad`. On a mini-batch they agree to float32 rounding.

# %%
x, y = train.x[:10], train.y[:10]
by_hand = jaxnn.backprop(params, x, y, net=net)
by_jax = jaxnn.autodiff_grad(params, x, y, net=net)
for l, (g1, g2) in enumerate(zip(by_hand, by_jax)):
    print(
        f"layer {l}: max |backprop - jax.grad| = w {jnp.max(jnp.abs(g1['w'] - g2['w'])):.1e}, "
        f"b {jnp.max(jnp.abs(g1['b'] - g2['b'])):.1e}"
    )
