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
# # Chapter 6: deep learning with convolutional networks
#
# From the repository root, one line installs jaxnn with what the notebooks need:
#
# ```
# pip install -e ".[plot,notebooks]"
# ```
#
# On a GPU, add JAX's CUDA wheels (`pip install "jaxnn[cuda]"`, here `pip install -e ".[cuda]"`): the code
# below runs unchanged, on the GPU, where the book's full run is practical. The short version trains on 5,000
# images for two epochs (under 2 minutes on 2 CPU cores, to about 84%); `JAXNN_FULL=1` in the environment, or
# `FULL = True` below, trains network3's run: 50,000 images, 60 epochs (98.78% in the book; on a 2-core CPU it
# takes hours).

# %%
import os

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import jaxnn
from jaxnn import ConvPool, FullyConnected, Softmax

FULL = os.environ.get("JAXNN_FULL") == "1"
N_TRAIN, N_EVAL, EPOCHS = (50_000, 10_000, 60) if FULL else (5_000, 500, 2)
data = jaxnn.load_mnist()
cut = lambda split, n: jaxnn.Split(split.x[:n], split.y[:n])  # noqa: E731
train, validation, test = cut(data.training, N_TRAIN), cut(data.validation, N_EVAL), cut(data.test, N_EVAL)

# %% [markdown]
# ## network3's convolutional network
#
# A convolutional-pooling layer (20 feature maps, 5×5 local receptive fields, 2×2 max-pooling, sigmoid), a
# fully connected layer of 100 sigmoid neurons and a softmax output layer, on 28×28 images. The 20 maps share
# their weights: the first layer has only 20 × 25 weights and 20 biases.

# %%
net = jaxnn.conv_net([ConvPool(20, 5, 2), FullyConnected(100), Softmax(10)], (1, 28, 28))
params = jaxnn.init_network(jax.random.key(0), net)
print(net)
for layer, shape, p in zip(net.layers, net.shapes[1:], params):
    print(f"{layer.name:16s} output {shape}: " + ", ".join(f"{k} {v.shape}" for k, v in p.items()))

# %% [markdown]
# ## Training, as network3.py does
#
# `**jaxnn.NETWORK3` selects network3's conventions: the data in order, incomplete mini-batches dropped, λ
# scaled by the number of mini-batches. Mini-batch 10, η = 0.1; the reported figure is the test accuracy at
# the epoch of best validation accuracy.

# %%
params, history = jaxnn.sgd(
    params,
    train,
    EPOCHS,
    10,
    0.1,
    key=jax.random.key(1),
    net=net,
    evaluation_data=validation,
    test_data=test,
    **jaxnn.NETWORK3,
)
epoch, val, test_acc = history.best_validation()
print(
    f"best validation {val:.2%} at epoch {epoch}; its test accuracy {test_acc:.2%} "
    f"({N_TRAIN} training images, {EPOCHS} epoch(s); the book: 98.78% after 60 epochs on 50,000)"
)
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(history.epoch, 100 * np.array(history.evaluation_accuracy), marker="o")
ax.set(xlabel="epoch", ylabel="validation accuracy (%)")
plt.show()

# %% [markdown]
# ## Inspect: the filters and the feature maps
#
# Each of the 20 filters is a 5×5 weight pattern slid over the image (dark = positive weight).
# After the short run they are still close to their random start; after the full run some show strokes.

# %%
filters = np.asarray(params[0]["w"]).reshape(20, 5, 5)
fig, axes = plt.subplots(2, 10, figsize=(10, 2.2))
for ax, f in zip(axes.flat, filters):
    ax.imshow(f, cmap="gray_r")
    ax.axis("off")

# %% [markdown]
# The 20 feature maps of one test image after convolution and pooling (12×12 each):

# %%
image = test.x[:1]
maps, _ = net.layers[0].forward(params[0], image.reshape(1, 1, 28, 28), 1.0)  # (output, what backward needs)
maps = np.asarray(maps).reshape(20, 12, 12)
fig, axes = plt.subplots(2, 11, figsize=(11, 2.2))
axes[0, 0].imshow(image.reshape(28, 28), cmap="gray_r")
for ax, m in zip([*axes[0, 1:], *axes[1, 1:]], maps):
    ax.imshow(m, cmap="viridis")
for ax in axes.flat:
    ax.axis("off")

# %% [markdown]
# ## Hand-written backprop beside `jax.grad`
#
# jaxnn's conv-pool layer has its own backward pass: the error goes back through the max-pool to the unit that
# won each 2×2 block, then through the shared filters (a correlation with the input gives the filter gradient,
# a full convolution with the flipped filters the error of the layer below). It agrees with `jax.grad`:

# %%
x, y = train.x[:10], train.y[:10]
by_hand = jaxnn.backprop(params, x, y, net=net)
by_jax = jaxnn.autodiff_grad(params, x, y, net=net)
for layer, g1, g2 in zip(net.layers, by_hand, by_jax):
    diffs = ", ".join(f"{k} {float(jnp.max(jnp.abs(g1[k] - g2[k]))):.1e}" for k in g1)
    print(f"{layer.name:16s} max |backprop - jax.grad|: {diffs}")
