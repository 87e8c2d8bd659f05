"""The 2-2-2 worked example, step by step, computed by jaxnn in float64.

Run it as is::

    python examples/worked_example.py

It prints the forward pass (z¹, a¹, z², a²), then for the quadratic and the cross-entropy cost
the cost C, the errors δ² (BP1) and δ¹ (BP2), and every gradient (BP3, BP4), and finally
checks the hand-written gradients against jax.grad. docs/worked-example.md walks through the
same numbers with the equations.
"""

import jax

jax.config.update("jax_enable_x64", True)  # before any array is made

import _common  # noqa: E402
import jax.numpy as jnp  # noqa: E402

import jaxnn  # noqa: E402

F64 = jnp.float64

# The network: row j of W^l holds the weights into neuron j of layer l.
x = jnp.array([0.05, 0.10], dtype=F64)
y = jnp.array([0.01, 0.99], dtype=F64)
params = [
    {"w": jnp.array([[0.15, 0.20], [0.25, 0.30]], dtype=F64), "b": jnp.array([0.35, 0.35], dtype=F64)},
    {"w": jnp.array([[0.40, 0.45], [0.50, 0.55]], dtype=F64), "b": jnp.array([0.60, 0.60], dtype=F64)},
]


def fmt(v):
    v = jnp.asarray(v)
    if v.ndim == 0:
        return f"{float(v):.10g}"
    if v.ndim == 1:
        return "(" + ", ".join(f"{float(e):.10g}" for e in v) + ")"
    return "[" + "; ".join(" ".join(f"{float(e):.10g}" for e in row) for row in v) + "]"


def show(label, value, note=""):
    print(f"  {label:<16} = {fmt(value)}" + (f"    {note}" if note else ""))


def heading(text):
    print()
    print(text)
    print("-" * len(text))


def main():
    _common.parser(__doc__, figure=False).parse_args()
    print("The 2-2-2 worked example (sigmoid in both layers, float64)")
    print("==========================================================")
    show("x", x)
    show("y", y, "target")
    show("W1", params[0]["w"], "row j = weights into hidden neuron j")
    show("b1", params[0]["b"])
    show("W2", params[1]["w"], "row j = weights into output neuron j")
    show("b2", params[1]["b"])

    model = jaxnn.make_model("sigmoid", "sigmoid", "quadratic")  # the forward pass is cost-free
    zs, acts = jaxnn.feedforward(jaxnn.mlp([2, 2, 2], model), params, x[None, :])
    z1, a1, z2, a2 = zs[0][0], acts[1][0], zs[1][0], acts[2][0]
    sigmoid = model.activation

    heading("Forward pass")
    show("z1 = W1 x + b1", z1)
    show("a1 = σ(z1)", a1)
    show("z2 = W2 a1 + b2", z2)
    show("a2 = σ(z2)", a2, "the network's output")
    show("σ'(z1)", sigmoid.prime(z1), "= a1 (1 − a1)")
    show("σ'(z2)", sigmoid.prime(z2), "= a2 (1 − a2)")

    formulas = {
        "quadratic": ("C = ½ Σ_j (a2_j − y_j)²", "δ2 = (a2 − y) ⊙ σ'(z2)"),
        "cross-entropy": ("C = −Σ_j [y_j ln a2_j + (1 − y_j) ln(1 − a2_j)]", "δ2 = a2 − y"),
    }
    for cost in ("quadratic", "cross-entropy"):
        model = jaxnn.make_model("sigmoid", "sigmoid", cost)
        cost_formula, bp1 = formulas[cost]
        heading(f"{cost} cost:  {cost_formula}")
        show("C", jaxnn.loss(params, x, y, cost=cost))

        d2 = model.cost.delta(zs[1], acts[2], y[None, :], model.output_activation)
        d1 = model.activation.vjp(zs[0], acts[1], d2 @ params[1]["w"])
        print("  errors δ^l = ∂C/∂z^l")
        show("δ2", d2[0], f"BP1: {bp1}")
        show("δ1", d1[0], "BP2: δ1 = ((W2)ᵀ δ2) ⊙ σ'(z1)")

        g = jaxnn.backprop(params, x, y, cost=cost)
        print("  gradients")
        show("∂C/∂W2", g[1]["w"], "BP4: δ2 a1ᵀ")
        show("∂C/∂b2", g[1]["b"], "BP3: δ2")
        show("∂C/∂W1", g[0]["w"], "BP4: δ1 xᵀ")
        show("∂C/∂b1", g[0]["b"], "BP3: δ1")

        diffs = []
        for name, fn in (
            ("backprop_per_example", jaxnn.backprop_per_example),
            ("autodiff_grad (jax.grad)", jaxnn.autodiff_grad),
        ):
            other = fn(params, x, y, cost=cost)
            diff = max(
                float(jnp.max(jnp.abs(a - b)))
                for a, b in zip(jax.tree_util.tree_leaves(g), jax.tree_util.tree_leaves(other))
            )
            diffs.append(f"{name}: {diff:.1e}")
        print("  largest difference from backprop: " + "; ".join(diffs))


if __name__ == "__main__":
    main()
