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
# # Chapter 3: improving the way neural networks learn
#
# From the repository root, one line installs jaxnn with what the notebooks need:
#
# ```
# pip install -e ".[plot,notebooks]"
# ```
#
# On a GPU, add JAX's CUDA wheels (`pip install "jaxnn[cuda]"`, here `pip install -e ".[cuda]"`): the code
# below runs unchanged, on the GPU. The short version runs the overfitting experiment for 40 epochs and the
# initialisation comparison on 10,000 images (under 2 minutes on 2 CPU cores); `JAXNN_FULL=1` in the
# environment, or `FULL = True` below, runs the book's 400 epochs and full data.

# %%
import os

import jax
import jax.numpy as jnp
import matplotlib.pyplot as plt
import numpy as np

import jaxnn

FULL = os.environ.get("JAXNN_FULL") == "1"
OVERFIT_EPOCHS, N_TEST = (400, 10_000) if FULL else (40, 2_000)
INIT_TRAIN, INIT_EPOCHS = (50_000, 30) if FULL else (10_000, 3)
data = jaxnn.load_mnist()
test = jaxnn.Split(data.test.x[:N_TEST], data.test.y[:N_TEST])
validation = jaxnn.Split(data.validation.x[:N_TEST], data.validation.y[:N_TEST])

# %% [markdown]
# ## The learning slowdown, and the cross-entropy cure
#
# One sigmoid neuron, input 1, target 0, starting from $w = b = 2$ (the book's second example), η = 0.15.
# With the quadratic cost, $\partial C/\partial w = (a - y)\,\sigma'(z)\,x$: the neuron starts saturated, $\sigma'(z)$ is
# tiny and it barely learns. With the cross-entropy $C = -[y \ln a + (1-y)\ln(1-a)]$, the $\sigma'(z)$ cancels:
# $\partial C/\partial w = (a - y)\,x$.


# %%
def neuron_run(cost, epochs=300, eta=0.15, w=2.0, b=2.0):
    def c(p):
        a = jax.nn.sigmoid(p[0] * 1.0 + p[1])
        return 0.5 * a**2 if cost == "quadratic" else -jnp.log(1 - a)  # target y = 0

    grad = jax.jit(jax.grad(c))
    p, outputs = jnp.array([w, b]), []
    for _ in range(epochs):
        outputs.append(float(jax.nn.sigmoid(p[0] + p[1])))
        p = p - eta * grad(p)
    return outputs


fig, ax = plt.subplots(figsize=(5, 3))
for cost in ("quadratic", "cross-entropy"):
    ax.plot(neuron_run(cost), label=cost)
ax.set(xlabel="epoch", ylabel="output a (target 0)", title="w = b = 2, η = 0.15")
ax.legend()
plt.show()

# %% [markdown]
# ## Overfitting, and L2 regularization
#
# The book's experiment: [784, 30, 10] with the cross-entropy cost, trained on only 1,000 images, η = 0.5,
# mini-batch 10, without (λ = 0) and with (λ = 0.1) L2 regularization. `jaxnn.sweep` trains both networks at
# once (vmapped). The training cost keeps falling, while the test accuracy stops improving: the network
# learns the peculiarities of its 1,000 images. With λ = 0.1 the gap shrinks.

# %%
small = jaxnn.Split(data.training.x[:1000], data.training.y[:1000])
res = jaxnn.sweep(
    [784, 30, 10],
    small,
    OVERFIT_EPOCHS,
    10,
    0.5,
    lmbda=[0.0, 0.1],
    cost="cross-entropy",
    init="large",
    evaluation_data=test,
    monitor_training_cost=True,
)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.2))
for i, config in enumerate(res.configs):
    ax1.plot(res.training_cost[i], label=f"λ = {config['lmbda']}")
    ax2.plot(100 * res.evaluation_correct[i] / res.evaluation_size, label=f"λ = {config['lmbda']}")
ax1.set(xlabel="epoch", ylabel="training cost", title="cost on the 1,000 training images")
ax2.set(xlabel="epoch", ylabel="test accuracy (%)", title=f"accuracy on {N_TEST} test images")
ax1.legend(), ax2.legend()
print(res.table(by=("lmbda",)))
print("the book, 400 epochs: 82.27% (λ = 0), 87.1% (λ = 0.1)")

# %% [markdown]
# ## Weight initialisation
#
# N(0, 1) weights (`"large"`) saturate the hidden neurons: $z = \sum_j w_j x_j + b$ has a standard deviation
# of about 22 on a 784-pixel input with 500 ones. N(0, 1/n_in) weights (`"default"`, network2's) keep $z$ in range,
# and the network learns faster from the first epoch ([784, 30, 10], cross-entropy, η = 0.1, λ = 5).

# %%
train = jaxnn.Split(data.training.x[:INIT_TRAIN], data.training.y[:INIT_TRAIN])
fig, ax = plt.subplots(figsize=(5, 3))
for init in ("large", "default"):
    net = jaxnn.mlp([784, 30, 10], cost="cross-entropy", init=init, regularizer="l2")
    params = jaxnn.init_network(jax.random.key(0), net)
    _, history = jaxnn.sgd(
        params, train, INIT_EPOCHS, 10, 0.1, key=jax.random.key(1), net=net, lmbda=5.0, evaluation_data=validation
    )
    ax.plot(history.epoch, 100 * np.array(history.evaluation_accuracy), marker="o", label=f"{init} init")
    print(f"{init:8s} init: validation accuracy per epoch {[f'{a:.2%}' for a in history.evaluation_accuracy]}")
ax.set(xlabel="epoch", ylabel="validation accuracy (%)")
ax.legend()
plt.show()

# %% [markdown]
# ## Softmax and the log-likelihood cost
#
# A softmax output layer gives a probability distribution over the ten digits; with the log-likelihood cost
# $C = -\ln a^L_y$ its error is again $\delta^L = a^L - y$, free of the slowdown.

# %%
net = jaxnn.mlp([784, 30, 10], output_activation="softmax", cost="log-likelihood")
params = jaxnn.init_network(jax.random.key(0), net)
params, history = jaxnn.sgd(params, train, 1, 10, 0.5, key=jax.random.key(1), net=net, evaluation_data=validation)
probabilities = jaxnn.forward(params, data.test.x[:3], net=net)
print(np.round(np.asarray(probabilities), 3))
print("sums:", np.asarray(probabilities.sum(axis=1)), "labels:", data.test.y[:3])

# %% [markdown]
# ## Hand-written backprop beside `jax.grad`, with the L2 term
#
# The regularized gradient is $\partial C/\partial w = \partial C_0/\partial w + \frac{\lambda}{n} w$ (biases are not
# penalised). `jaxnn.backprop` adds it by hand; `jaxnn.autodiff_grad` differentiates the regularized cost.

# %%
x, y = data.training.x[:10], data.training.y[:10]
by_hand = jaxnn.backprop(params, x, y, net=net, lmbda=5.0, n=50_000)
by_jax = jaxnn.autodiff_grad(params, x, y, net=net, lmbda=5.0, n=50_000)
for l, (g1, g2) in enumerate(zip(by_hand, by_jax)):
    print(f"layer {l}: max |backprop - jax.grad| = {max(float(jnp.max(jnp.abs(g1[k] - g2[k]))) for k in g1):.1e}")
