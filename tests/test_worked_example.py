"""Golden test: the 2-2-2 worked example, checked number by number against exact values.

The network (docs/worked-example.md has the computation step by step):

    x  = (0.05, 0.10)                       y  = (0.01, 0.99)
    W¹ = [[0.15, 0.20], [0.25, 0.30]]       b¹ = (0.35, 0.35)    row j = weights into neuron j
    W² = [[0.40, 0.45], [0.50, 0.55]]       b² = (0.60, 0.60)
    sigmoid in both layers

The reference values below were NOT computed with jaxnn or with floating point. They were
computed at 50-digit precision with Python's ``decimal`` module directly from the definitions,
then rounded to 18 significant digits; float64 holds about 16, so a tolerance of 1e-12 leaves a
wide margin for rounding and nothing else. The formulas used are given next to each value:

    σ(z) = 1 / (1 + e^{−z}),   σ'(z) = σ(z)(1 − σ(z))
    z¹ = W¹x + b¹,  a¹ = σ(z¹),  z² = W²a¹ + b²,  a² = σ(z²)
    quadratic:      C = ½ Σ_j (a²_j − y_j)²                    δ² = (a² − y) ⊙ σ'(z²)      (BP1)
    cross-entropy:  C = −Σ_j [y_j ln a²_j + (1 − y_j) ln(1 − a²_j)]
                    δ² = (−y/a² + (1 − y)/(1 − a²)) ⊙ σ'(z²)  (= a² − y to all 50 digits)
    δ¹ = ((W²)ᵀ δ²) ⊙ σ'(z¹)                                                             (BP2)
    ∂C/∂b^l = δ^l                                                                        (BP3)
    ∂C/∂W^l = δ^l (a^{l−1})ᵀ, i.e. ∂C/∂W^l_{jk} = δ^l_j a^{l−1}_k, with a⁰ = x             (BP4)

A batch of one example, so jaxnn's mean-over-the-batch loss is the cost itself.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxnn

RTOL = 1e-12
ATOL = 1e-15  # the smallest reference value is 4.4e-4, so RTOL is what binds

X = [0.05, 0.10]
Y = [0.01, 0.99]
W1 = [[0.15, 0.20], [0.25, 0.30]]
B1 = [0.35, 0.35]
W2 = [[0.40, 0.45], [0.50, 0.55]]
B2 = [0.60, 0.60]

# ---- exact forward pass (50-digit decimal, rounded to 18 significant digits) ----------------

# z¹ = W¹x + b¹ = (0.15·0.05 + 0.20·0.10 + 0.35, 0.25·0.05 + 0.30·0.10 + 0.35): exact decimals
Z1 = [0.3775, 0.3925]
# a¹ = σ(z¹)
A1 = [0.593269992107187255, 0.596884378259767056]
# z² = W²a¹ + b²
Z2 = [1.10590596705977008, 1.22492140409646551]
# a² = σ(z²)
A2 = [0.751365069552315708, 0.772928465321462589]
# σ'(z¹) = a¹(1 − a¹) and σ'(z²) = a²(1 − a²)
SIGMA_PRIME_1 = [0.241300708572325227, 0.240613417249218377]
SIGMA_PRIME_2 = [0.186815601808959487, 0.175510052817271193]

# ---- exact cost, errors and gradients, per cost (same 50-digit computation) -----------------

EXACT = {
    "quadratic": {
        # C = ½[(a²₁ − 0.01)² + (a²₂ − 0.99)²]
        "cost": 0.298371108760002689,
        # δ² = (a² − y) ⊙ a²(1 − a²)
        "delta2": [0.138498561628556966, -0.0380982365165562165],
        # δ¹ = ((W²)ᵀ δ²) ⊙ a¹(1 − a¹)
        "delta1": [0.00877135468948693454, 0.00995425470521720143],
        # ∂C/∂W² = δ² (a¹)ᵀ
        "w2": [[0.0821670405642307788, 0.0826676278475332553], [-0.0226025404774750598, -0.0227402422159782108]],
        # ∂C/∂W¹ = δ¹ xᵀ
        "w1": [[0.000438567734474346727, 0.000877135468948693454], [0.000497712735260860072, 0.000995425470521720143]],
    },
    "cross-entropy": {
        # C = −[0.01 ln a²₁ + 0.99 ln(1 − a²₁)] − [0.99 ln a²₂ + 0.01 ln(1 − a²₂)]
        "cost": 1.65052853181226790,
        # δ² = ∇_a C ⊙ σ'(z²) = a² − y
        "delta2": [0.741365069552315708, -0.217071534678537411],
        # δ¹ = ((W²)ᵀ δ²) ⊙ a¹(1 − a¹)
        "delta1": [0.0453670090730914095, 0.0515453942057899096],
        # ∂C/∂W² = δ² (a¹)ᵀ
        "w2": [[0.439829648961846671, 0.442509228603242921], [-0.128782027665430915, -0.129566608014492266]],
        # ∂C/∂W¹ = δ¹ xᵀ
        "w1": [[0.00226835045365457047, 0.00453670090730914095], [0.00257726971028949548, 0.00515453942057899096]],
    },
}
COSTS = sorted(EXACT)
GRADIENT_FUNCTIONS = {
    "backprop": jaxnn.backprop,
    "backprop_per_example": jaxnn.backprop_per_example,
    "autodiff_grad": jaxnn.autodiff_grad,
}


def f64(v):
    return jnp.asarray(v, dtype=jnp.float64)


def params():
    return [{"w": f64(W1), "b": f64(B1)}, {"w": f64(W2), "b": f64(B2)}]


def x_row():
    return f64([X])  # a batch of one row


def y_row():
    return f64([Y])


def assert_exact(actual, expected):
    actual = jnp.asarray(actual)
    assert actual.dtype == jnp.float64, f"expected a float64 result, got {actual.dtype}"
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected, dtype=np.float64), rtol=RTOL, atol=ATOL)


def model_for(cost):
    """The 2-2-2 network, sigmoid everywhere, with ``cost``."""
    return jaxnn.mlp([2, 2, 2], jaxnn.make_model("sigmoid", "sigmoid", cost))


def delta2(net, p):
    """δ² from jaxnn's hand-written BP1 (``cost.delta``)."""
    zs, acts = jaxnn.feedforward(net, p, x_row())
    return net.cost.delta(zs[-1], acts[-1], y_row(), net.output_activation)


# ---- precision ------------------------------------------------------------------------------


def test_golden_values_are_computed_in_float64():
    assert f64(X).dtype == jnp.float64, "x64 is off: tests/conftest.py must enable jax_enable_x64"
    assert jaxnn.forward(params(), x_row()).dtype == jnp.float64


# ---- forward pass ---------------------------------------------------------------------------


def test_feedforward_weighted_inputs_and_activations_match_exact_values():
    zs, acts = jaxnn.feedforward(model_for("quadratic"), params(), x_row())
    assert_exact(acts[0], [X])
    assert_exact(zs[0], [Z1])
    assert_exact(acts[1], [A1])
    assert_exact(zs[1], [Z2])
    assert_exact(acts[2], [A2])


def test_forward_output_matches_exact_a2_for_a_vector_and_a_row():
    assert_exact(jaxnn.forward(params(), x_row()), [A2])
    assert_exact(jaxnn.forward(params(), f64(X)), [A2])


def test_sigmoid_derivative_at_each_layer_matches_exact_values():
    sigmoid = jaxnn.activations.get("sigmoid")
    assert_exact(sigmoid.prime(f64(Z1)), SIGMA_PRIME_1)
    assert_exact(sigmoid.prime(f64(Z2)), SIGMA_PRIME_2)


# ---- cost -----------------------------------------------------------------------------------


@pytest.mark.parametrize("cost", COSTS)
def test_loss_matches_exact_cost(cost):
    assert_exact(jaxnn.loss(params(), x_row(), y_row(), cost=cost), EXACT[cost]["cost"])
    assert_exact(jaxnn.loss(params(), f64(X), f64(Y), cost=cost), EXACT[cost]["cost"])


@pytest.mark.parametrize("cost", COSTS)
def test_cost_from_activations_and_from_z_both_match_exact_cost(cost):
    c = jaxnn.costs.get(cost)
    sigmoid = jaxnn.activations.get("sigmoid")
    assert_exact(c.fn(f64([A2]), y_row()), [EXACT[cost]["cost"]])
    assert_exact(c.value_z(f64([Z2]), y_row(), sigmoid), [EXACT[cost]["cost"]])


# ---- δ per layer ----------------------------------------------------------------------------


@pytest.mark.parametrize("cost", COSTS)
def test_output_error_delta2_from_hand_written_bp1_matches_exact_value(cost):
    model = model_for(cost)
    assert_exact(delta2(model, params()), [EXACT[cost]["delta2"]])


@pytest.mark.parametrize("cost", COSTS)
def test_output_error_delta2_equals_bp1_literal_grad_a_cost_times_sigma_prime(cost):
    """BP1 as written, ∇_a C ⊙ σ'(z²), with ∇_a C from jax.grad: checks the a − y shortcut."""
    c = jaxnn.costs.get(cost)
    grad_a = jax.grad(lambda a: c.fn(a, y_row()).sum())(f64([A2]))
    literal = grad_a * jaxnn.activations.get("sigmoid").prime(f64([Z2]))
    assert_exact(literal, [EXACT[cost]["delta2"]])


@pytest.mark.parametrize("cost", COSTS)
def test_hidden_error_delta1_from_hand_written_bp2_matches_exact_value(cost):
    model = model_for(cost)
    p = params()
    zs, acts = jaxnn.feedforward(model, p, x_row())
    d1 = model.layers[0].activation.vjp(zs[0], acts[1], delta2(model, p) @ p[1]["w"])  # ((W²)ᵀδ²)ᵀ as a row
    assert_exact(d1, [EXACT[cost]["delta1"]])


@pytest.mark.parametrize("cost", COSTS)
def test_each_delta_equals_jax_grad_of_cost_with_respect_to_that_layers_z(cost):
    """δ^l is defined as ∂C/∂z^l: differentiate the cost as a function of z² and of z¹."""
    c = jaxnn.costs.get(cost)
    sigmoid = jaxnn.activations.get("sigmoid")
    w2, b2 = f64(W2), f64(B2)

    def cost_of_z2(z2):
        return c.value_z(z2, y_row(), sigmoid).sum()

    def cost_of_z1(z1):
        return cost_of_z2(sigmoid.fn(z1) @ w2.T + b2)

    assert_exact(jax.grad(cost_of_z2)(f64([Z2])), [EXACT[cost]["delta2"]])
    assert_exact(jax.grad(cost_of_z1)(f64([Z1])), [EXACT[cost]["delta1"]])


# ---- gradients ------------------------------------------------------------------------------


@pytest.mark.parametrize("grad_name", sorted(GRADIENT_FUNCTIONS))
@pytest.mark.parametrize("cost", COSTS)
def test_every_gradient_matches_exact_values(cost, grad_name):
    """∂C/∂W², ∂C/∂b², ∂C/∂W¹, ∂C/∂b¹ from both hand-written paths and from jax.grad."""
    g = GRADIENT_FUNCTIONS[grad_name](params(), x_row(), y_row(), cost=cost)
    exact = EXACT[cost]
    assert_exact(g[1]["w"], exact["w2"])
    assert_exact(g[1]["b"], exact["delta2"])  # BP3: ∂C/∂b² = δ²
    assert_exact(g[0]["w"], exact["w1"])
    assert_exact(g[0]["b"], exact["delta1"])  # BP3: ∂C/∂b¹ = δ¹


@pytest.mark.parametrize("grad_name", sorted(GRADIENT_FUNCTIONS))
@pytest.mark.parametrize("cost", COSTS)
def test_gradient_of_a_single_unbatched_example_matches_exact_values(cost, grad_name):
    g = GRADIENT_FUNCTIONS[grad_name](params(), f64(X), f64(Y), cost=cost)
    assert_exact(g[1]["w"], EXACT[cost]["w2"])
    assert_exact(g[0]["w"], EXACT[cost]["w1"])


@pytest.mark.parametrize("grad_name", sorted(GRADIENT_FUNCTIONS))
@pytest.mark.parametrize("cost", COSTS)
def test_batch_of_repeated_example_has_the_same_mean_cost_and_gradients(cost, grad_name):
    """The loss is the mean over the batch, so three copies of the example change nothing."""
    x3, y3 = jnp.tile(x_row(), (3, 1)), jnp.tile(y_row(), (3, 1))
    assert_exact(jaxnn.loss(params(), x3, y3, cost=cost), EXACT[cost]["cost"])
    g = GRADIENT_FUNCTIONS[grad_name](params(), x3, y3, cost=cost)
    assert_exact(g[1]["w"], EXACT[cost]["w2"])
    assert_exact(g[1]["b"], EXACT[cost]["delta2"])
    assert_exact(g[0]["w"], EXACT[cost]["w1"])
    assert_exact(g[0]["b"], EXACT[cost]["delta1"])


def test_weight_gradients_are_outer_products_of_delta_and_previous_activation():
    """BP4 on the exact values themselves: a consistency check of the literals above."""
    for cost in COSTS:
        e = EXACT[cost]
        np.testing.assert_allclose(np.outer(e["delta2"], A1), e["w2"], rtol=1e-15)
        np.testing.assert_allclose(np.outer(e["delta1"], X), e["w1"], rtol=1e-15)
        bp2 = (np.asarray(W2).T @ np.asarray(e["delta2"])) * np.asarray(SIGMA_PRIME_1)
        np.testing.assert_allclose(bp2, e["delta1"], rtol=1e-14)
