"""Backpropagation with linear neurons, with a single modified neuron, and with linear output neurons.

Run it as is::

    python examples/ex_linear_neurons.py            # float64; prints every check, saves a figure
    python examples/ex_linear_neurons.py --quick    # fewer random inputs
    python examples/ex_linear_neurons.py --out DIR  # put the figure in DIR

The book's chapter 2 exercises "backpropagation with linear neurons" and "backpropagation with
a single modified neuron", and the chapter 3 problem on linear output neurons:

1. With σ(z) = z everywhere, the network is one affine map x ↦ Wx + b with
   W = w^L ⋯ w^2 w^1 and b = w^L(⋯(w^2 b^1 + b^2)⋯) + b^L, and since σ' = 1, backprop is
   δ^L = ∇_a C, δ^l = (w^{l+1})ᵀ δ^{l+1}, i.e. δ^l = (w^{l+1})ᵀ (w^{l+2})ᵀ ⋯ (w^L)ᵀ ∇_a C.
2. If one neuron j in layer l uses f instead of σ, only BP2 at that neuron changes:
   δ^l_j = ((w^{l+1})ᵀ δ^{l+1})_j f'(z^l_j); the error then flows into every earlier layer.
3. Sigmoid hidden layers, linear output, quadratic cost: δ^L = a^L − y.
It also checks the chapter 2 "alternate presentation" of BP1 and BP2 with diagonal matrices,
δ^l = Σ'(z^l)(w^{l+1})ᵀ ⋯ Σ'(z^{L−1})(w^L)ᵀ Σ'(z^L) ∇_a C, Σ'(z) = diag(σ'(z)).
Each is checked against jaxnn.backprop and jax.grad.
"""

import jax

jax.config.update("jax_enable_x64", True)  # before any array is made

import _common  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxnn  # noqa: E402
from jaxnn import plotting  # noqa: E402

F64 = jnp.float64


def max_diff(a, b):
    """Largest absolute difference between two pytrees of arrays."""
    return jnp.max(
        jnp.stack([jnp.max(jnp.abs(x - y)) for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b))])
    )


def one_modified_neuron(width, j, use_f_prime=True):
    """Sigmoid everywhere except neuron j of the hidden layer of the given width, which uses tanh.

    jaxnn applies one hidden activation to every hidden layer, so the record picks its layer by
    width (the hidden layers of the demo network have different widths). With
    ``use_f_prime=False`` its derivative wrongly keeps σ' at that neuron.
    """

    def mask(z):
        return (jnp.arange(z.shape[-1]) == j) & (z.shape[-1] == width)

    sig = jax.nn.sigmoid
    fn = lambda z: jnp.where(mask(z), jnp.tanh(z), sig(z))
    if use_f_prime:
        prime = lambda z: jnp.where(mask(z), 1 - jnp.tanh(z) ** 2, sig(z) * (1 - sig(z)))
    else:
        prime = lambda z: sig(z) * (1 - sig(z))
    return jaxnn.elementwise(f"sigmoid, tanh at neuron {j}" + ("" if use_f_prime else " (σ' kept)"), fn, prime)


def init(rng, sizes, weight_scale):
    """Random float64 parameters in jaxnn's layout: w ~ N(0, weight_scale²/n_in), b ~ N(0, 1).

    (NumPy's generator rather than jaxnn.init_params: these demo networks are tiny, and this
    avoids compiling JAX's random number generator for each shape.)
    """
    return [
        {
            "w": jnp.asarray(rng.normal(0, weight_scale / np.sqrt(n_in), (n_out, n_in))),
            "b": jnp.asarray(rng.normal(0, 1, n_out)),
        }
        for n_in, n_out in zip(sizes[:-1], sizes[1:])
    ]


def check_linear(params, x, y, sq, ysq):
    """Part 1, all in one jitted call: the collapse to one matrix and BP1/BP2 with σ' = 1."""
    m = x.shape[0]
    linear = dict(activation="linear", cost="quadratic")
    W, b = params[0]["w"], params[0]["b"]
    for layer in params[1:]:
        W, b = layer["w"] @ W, layer["w"] @ b + layer["b"]
    out = jaxnn.forward(params, x, **linear)
    grad_a = out - y  # ∇_a C for C = ½‖a − y‖², per example (rows)
    deltas = [None] * len(params)
    deltas[-1] = grad_a  # BP1 with σ' = 1
    for l in range(len(params) - 2, -1, -1):
        deltas[l] = deltas[l + 1] @ params[l + 1]["w"]  # BP2 with σ' = 1: (w^{l+1})ᵀ δ^{l+1}, as rows
    acts = [x]
    for layer in params[:-1]:
        acts.append(acts[-1] @ layer["w"].T + layer["b"])
    by_hand = [{"w": d.T @ a / m, "b": jnp.mean(d, axis=0)} for d, a in zip(deltas, acts)]  # BP4, BP3
    chain = grad_a @ params[2]["w"] @ params[1]["w"]  # δ^1 = (w^2)ᵀ (w^3)ᵀ ∇_a C, as rows
    xsq = x[:, :3]
    gsq = jaxnn.forward(sq, xsq, **linear) - ysq
    bp_sq = jaxnn.backprop(sq, xsq, ysq, **linear)
    return {
        "W": W,
        "b": b,
        "out": out,
        "collapse": jnp.max(jnp.abs(out - (x @ W.T + b))),
        "chain": jnp.max(jnp.abs(deltas[0] - chain)),
        "vs_backprop": max_diff(by_hand, jaxnn.backprop(params, x, y, **linear)),
        "vs_grad": max_diff(by_hand, jaxnn.autodiff_grad(params, x, y, **linear)),
        "square_right": jnp.max(jnp.abs(jnp.mean(gsq @ sq[2]["w"] @ sq[1]["w"], 0) - bp_sq[0]["b"])),
        "square_short": jnp.max(jnp.abs(jnp.mean(gsq @ sq[1]["w"], 0) - bp_sq[0]["b"])),  # product stopped at L − 1
    }


def check_modified(p2, x, y2):
    """Part 2: backprop with f' at the modified neuron, with σ' kept there, and jax.grad."""
    common = dict(output_activation="sigmoid", cost="quadratic")
    right_act = one_modified_neuron(5, j=2)
    wrong_act = one_modified_neuron(5, j=2, use_f_prime=False)
    right = jaxnn.backprop(p2, x, y2, activation=right_act, **common)
    auto = jaxnn.autodiff_grad(p2, x, y2, activation=right_act, **common)
    return right, jaxnn.backprop(p2, x, y2, activation=wrong_act, **common), auto, max_diff(right, auto)


def check_linear_output(p3, x, y):
    """Part 3: ∂C/∂b^L against mean(a^L − y) for a linear output layer and the quadratic cost."""
    comps = dict(activation="sigmoid", output_activation="linear", cost="quadratic")
    out = jaxnn.forward(p3, x, **comps)
    target = jnp.mean(out - y, 0)
    return (
        jnp.max(jnp.abs(target - jaxnn.backprop(p3, x, y, **comps)[-1]["b"])),
        jnp.max(jnp.abs(target - jaxnn.autodiff_grad(p3, x, y, **comps)[-1]["b"])),
    )


def check_matrix_form(p2, x, y2):
    """Part 4: δ^1 = Σ'(z^1) (w^2)ᵀ Σ'(z^2) (w^3)ᵀ Σ'(z^3) ∇_a C for one example, Σ' = diag(σ'(z))."""
    x1, y1 = x[0], y2[0]
    zs, a = [], x1
    for layer in p2:
        zs.append(layer["w"] @ a + layer["b"])
        a = jax.nn.sigmoid(zs[-1])
    sigma_prime = [jnp.diag(jax.nn.sigmoid(z) * (1 - jax.nn.sigmoid(z))) for z in zs]
    delta1 = sigma_prime[0] @ p2[1]["w"].T @ sigma_prime[1] @ p2[2]["w"].T @ sigma_prime[2] @ (a - y1)
    return jnp.max(jnp.abs(delta1 - jaxnn.backprop(p2, x1, y1)[0]["b"]))


def main():
    args = _common.parser(__doc__, "fewer random inputs").parse_args()
    m = 200 if args.quick else 5_000

    # -- 1. linear neurons
    sizes = [4, 6, 3, 2]
    rng = np.random.default_rng(0)
    params = init(rng, sizes, 1.0)
    x = jnp.asarray(rng.normal(size=(m, sizes[0])))
    y = jnp.asarray(rng.normal(size=(m, sizes[-1])))
    sq = init(rng, [3, 3, 3, 3], 1.0)
    ysq = jnp.asarray(rng.normal(size=(m, 3)))
    r1 = jax.jit(check_linear)(params, x, y, sq, ysq)
    W, b, out = r1["W"], r1["b"], r1["out"]
    print(f"1. linear neurons, sizes {sizes}, {m:,} random inputs (float64)")
    print(
        f"  W = w3 w2 w1 has shape {tuple(W.shape)}; b = w3 (w2 b1 + b2) + b3 = ({', '.join(f'{float(v):.4f}' for v in b)})"
    )
    print(f"  max |network(x) − (W x + b)| = {float(r1['collapse']):.1e}")
    print(f"  δ^1 from BP2 step by step vs the chained product (w2)ᵀ(w3)ᵀ ∇_a C: max diff {float(r1['chain']):.1e}")
    print(
        f"  gradients from these δ (BP3, BP4) vs jaxnn.backprop: {float(r1['vs_backprop']):.1e}; vs jax.grad: {float(r1['vs_grad']):.1e}"
    )
    print(
        f"  the product must run to (w^L)ᵀ: without (w3)ᵀ the first factor (w2)ᵀ has shape {tuple(params[1]['w'].T.shape)} "
        f"and cannot multiply ∇_a C of length {sizes[-1]}"
    )
    print(
        f"  in a square [3, 3, 3, 3] network it is defined but wrong: ∂C/∂b^1 from (w2)ᵀ(w3)ᵀ∇_a C differs from backprop by "
        f"{float(r1['square_right']):.1e}, from (w2)ᵀ∇_a C alone by {float(r1['square_short']):.2f}"
    )

    # -- 2. one modified neuron
    sizes2 = [4, 6, 5, 3]
    p2 = init(rng, sizes2, np.sqrt(sizes2[0]))  # N(0, 1) weights, as network.py
    y2 = jax.nn.one_hot(jnp.arange(m) % 3, 3, dtype=F64)
    bp2, bp2_wrong, ad2, bp_vs_ad = jax.jit(check_modified)(p2, x, y2)
    print()
    print(
        f"2. one modified neuron: sizes {sizes2}, sigmoid everywhere except neuron 2 of the width-5 hidden layer (tanh)"
    )
    print(f"  BP2 with f'(z) = 1 − tanh²(z) at that neuron: jaxnn.backprop vs jax.grad max diff {float(bp_vs_ad):.1e}")
    print("  keeping σ' there instead, the gradient is wrong exactly where the error reaches:")
    names = ["w1 (input → hidden 1)", "b1", "w2 (hidden 1 → hidden 2)", "b2", "w3 (hidden 2 → output)", "b3"]
    rows = []
    for l in range(len(p2)):
        for key in ("w", "b"):
            d = np.abs(np.asarray(bp2_wrong[l][key]) - np.asarray(ad2[l][key]))
            affected = sorted({int(i) for i in np.argwhere(d > 1e-12)[:, 0]})
            name = names[2 * l + (key == "b")]
            rows.append((name, float(d.max()), affected))
            print(f"    {name:<26} max error {d.max():.2e}   rows (neurons) affected: {affected or 'none'}")

    # -- 3. linear output neurons
    p3 = init(rng, [4, 6, 2], 1.0)
    r3 = jax.jit(check_linear_output)(p3, x, y)
    print()
    print("3. sigmoid hidden layer, linear output, quadratic cost, sizes [4, 6, 2]")
    print(
        f"  ∂C/∂b^L = mean(a^L − y): max diff from jaxnn.backprop {float(r3[0]):.1e}, "
        f"from jax.grad {float(r3[1]):.1e}: δ^L = a^L − y, no σ'(z^L) factor"
    )

    print()
    print(f"4. BP1 and BP2 as matrix products, all-sigmoid network {sizes2}, one example:")
    print(
        f"  δ^1 = Σ'(z^1)(w^2)ᵀ Σ'(z^2)(w^3)ᵀ Σ'(z^3) ∇_a C with Σ'(z) = diag(σ'(z)), against jaxnn.backprop's ∂C/∂b^1: "
        f"max diff {float(jax.jit(check_matrix_form)(p2, x, y2)):.1e}"
    )

    if not _common.can_plot():
        return
    fig, (ax1, ax2) = plotting.subplots(1, 2, width=4.5, height=3.4)
    collapsed = x @ W.T + b
    ax1.plot(np.asarray(collapsed[:, 0]), np.asarray(out[:, 0]), ".", ms=2, label="output 1")
    ax1.plot(np.asarray(collapsed[:, 1]), np.asarray(out[:, 1]), ".", ms=2, label="output 2")
    ax1.set(xlabel="W x + b (one matrix)", ylabel="linear network output", title=f"linear {sizes} network")
    ax1.legend(fontsize=8)
    labels = [r[0].split(" ")[0] for r in rows]
    ax2.bar(range(len(rows)), [max(r[1], 1e-18) for r in rows])
    ax2.set_yscale("log")
    ax2.set(
        xticks=range(len(rows)),
        xticklabels=labels,
        ylabel="max |error| (10⁻¹⁸ = none)",
        title="σ' kept at the tanh neuron",
    )
    _common.save_figure(fig, "ex_linear_neurons", args)


if __name__ == "__main__":
    main()
