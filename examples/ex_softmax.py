"""Softmax: monotonicity, non-locality, the inverse, the limit c → ∞, its Jacobian, and δ^L = a^L − y.

Run it as is::

    python examples/ex_softmax.py            # float64 checks on random inputs, saves a figure
    python examples/ex_softmax.py --quick    # fewer random inputs
    python examples/ex_softmax.py --out DIR  # put the figure in DIR

The book's chapter 3 exercises and problems on the softmax a_j = e^{z_j} / Σ_k e^{z_k}:
∂a_j/∂z_k = a_j(1[j = k] − a_k), positive iff j = k (monotonicity) and nonzero for every k
(non-locality); z_j = ln a_j + C with C the same for every j (inverse); softmax(c·z) tends to the
argmax as c → ∞; the Jacobian is diag(a) − aaᵀ; and with the log-likelihood cost
C = −ln a_y, δ^L = ∂C/∂z^L = a^L − y. Every identity is checked against jax.jacobian / jax.grad,
using jaxnn's registered "softmax" activation and "log-likelihood" cost.
"""

import jax

jax.config.update("jax_enable_x64", True)  # before any array is made

import _common  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxnn  # noqa: E402
from jaxnn import plotting  # noqa: E402

SOFTMAX = jaxnn.activations.get("softmax")
LL = jaxnn.costs.get("log-likelihood")
F64 = jnp.float64


@jax.jit
def checks(Z, labels):
    """Every identity on a batch of random z (rows); returns the largest deviations."""
    n = Z.shape[1]
    A = SOFTMAX.fn(Z)
    J = jax.vmap(jax.jacobian(SOFTMAX.fn))(Z)  # J[i, j, k] = ∂a_j/∂z_k for row i
    formula = jax.vmap(lambda a: jnp.diag(a) - jnp.outer(a, a))(A)
    eye = jnp.eye(n, dtype=bool)
    G = jnp.cos(jnp.arange(Z.size, dtype=F64).reshape(Z.shape))  # any upstream gradient will do
    vjp_auto = jax.vmap(lambda z, g: jax.vjp(SOFTMAX.fn, z)[1](g)[0])(Z, G)
    inverse = jnp.log(A) - Z  # should be the same constant −ln Σ_k e^{z_k} in every column
    Y = jax.nn.one_hot(labels, n, dtype=F64)
    grad_z = jax.vmap(jax.grad(lambda z, y: -jnp.sum(y * jnp.log(SOFTMAX.fn(z)))))(Z, Y)
    a_r = jnp.take_along_axis(A, labels[:, None], axis=1)
    diag_only = -(1 / a_r) * A * (1 - A)  # the chain rule with only the diagonal term a_j(1 − a_j)
    return {
        "min_diag": jnp.min(jnp.where(eye, J, jnp.inf)),
        "max_offdiag": jnp.max(jnp.where(eye, -jnp.inf, J)),
        "min_abs_offdiag": jnp.min(jnp.where(eye, jnp.inf, jnp.abs(J))),
        "jac_formula": jnp.max(jnp.abs(J - formula)),
        "jac_symmetric": jnp.max(jnp.abs(J - jnp.swapaxes(J, 1, 2))),
        "vjp": jnp.max(jnp.abs(SOFTMAX.vjp(Z, A, G) - vjp_auto)),
        "inverse_spread": jnp.max(jnp.max(inverse, 1) - jnp.min(inverse, 1)),
        "inverse_const": jnp.max(jnp.abs(inverse[:, 0] + jax.nn.logsumexp(Z, axis=1))),
        "delta": jnp.max(jnp.abs(grad_z - (A - Y))),
        "delta_registry": jnp.max(jnp.abs(grad_z - LL.delta(Z, A, Y, SOFTMAX))),
        "delta_a_r": jnp.median(jnp.max(jnp.abs(grad_z - (a_r - Y)), axis=1)),
        "delta_diag_only": jnp.median(jnp.max(jnp.abs(grad_z - diag_only), axis=1)),
    }


@jax.jit
def softmax_scaled(cs, zs):
    """softmax(c·z) for each pair of c and row z."""
    return SOFTMAX.fn(cs[:, None] * zs)


@jax.jit
def network_check(params, x, y):
    """Largest difference between jaxnn.backprop and jax.grad for a softmax / log-likelihood network."""
    comps = dict(output_activation="softmax", cost="log-likelihood")
    bp = jaxnn.backprop(params, x, y, **comps)
    ad = jaxnn.autodiff_grad(params, x, y, **comps)
    return jnp.max(
        jnp.stack(
            [jnp.max(jnp.abs(a - b)) for a, b in zip(jax.tree_util.tree_leaves(bp), jax.tree_util.tree_leaves(ad))]
        )
    )


def main():
    args = _common.parser(__doc__, "fewer random inputs").parse_args()
    m, n = (200 if args.quick else 10_000), 6

    rng = np.random.default_rng(0)
    Z = jnp.asarray(3.0 * rng.normal(size=(m, n)))
    labels = jnp.asarray(rng.integers(0, n, m))
    r = {k: float(v) for k, v in checks(Z, labels).items()}
    print(f"softmax on {m:,} random z in R^{n} (entries N(0, 3²)), float64; J = jax.jacobian(softmax)")
    print(
        f"  monotonicity: min over j of ∂a_j/∂z_j = {r['min_diag']:.2e} (> 0); max over j ≠ k of ∂a_j/∂z_k = {r['max_offdiag']:.2e} (< 0)"
    )
    print(
        f"  non-locality: min over j ≠ k of |∂a_j/∂z_k| = {r['min_abs_offdiag']:.2e}: every output depends on every z_k"
    )
    print(
        f"  Jacobian: max |J − (diag(a) − aaᵀ)| = {r['jac_formula']:.1e}; max |J − Jᵀ| = {r['jac_symmetric']:.1e} (symmetric)"
    )
    print(f"  jaxnn's hand-written softmax vjp a ⊙ (g − ⟨a, g⟩) vs jax.vjp: {r['vjp']:.1e}")
    print(
        f"  inverse: ln a_j − z_j is the same for every j (spread {r['inverse_spread']:.1e}) and equals −ln Σ_k e^(z_k) "
        f"(max diff {r['inverse_const']:.1e}), so z_j = ln a_j + C"
    )

    print()
    print("log-likelihood C = −ln a_y with a softmax output; jax.grad of C with respect to z^L against")
    print("(max diff over all examples; for the wrong formulas, the median over examples of the max diff):")
    print(f"  a^L − y:                                  max diff {r['delta']:.1e}")
    print(f"  jaxnn's registered delta (BP1):           max diff {r['delta_registry']:.1e}")
    print(f"  a_r − y_j (the true class's a_r for all j): median {r['delta_a_r']:.3f}  (wrong)")
    print(f"  −(1/a_y)·a_j(1 − a_j) (diagonal term only): median {r['delta_diag_only']:.3f}  (wrong)")

    sizes = (5, 7, 4)
    params = [
        {"w": jnp.asarray(rng.normal(0, 1 / np.sqrt(i), (o, i))), "b": jnp.asarray(rng.normal(size=o))}
        for i, o in zip(sizes[:-1], sizes[1:])
    ]
    x = jnp.asarray(rng.normal(size=(m, sizes[0])))
    y = jnp.asarray(rng.integers(0, sizes[-1], m))
    diff = float(network_check(params, x, y))
    print(
        f"  network {list(sizes)}, sigmoid hidden, softmax output, log-likelihood: jaxnn.backprop vs jax.grad {diff:.1e}"
    )

    print()
    z = jnp.array([1.0, 2.5, -0.3, 2.4, 0.0], F64)
    tie = jnp.array([1.0, 2.5, -0.3, 2.5, 0.0], F64)
    cs = [1, 10, 100, 1000]
    print(f"softmax(c·z) as c grows, z = ({', '.join(f'{float(v):g}' for v in z)}); argmax is index 1")
    scaled = np.asarray(softmax_scaled(jnp.asarray(cs + [1000], F64), jnp.stack([z] * len(cs) + [tie])))
    for c, a in zip(cs, scaled):
        print(
            f"  c = {c:<5g} a = ({', '.join(f'{v:.4f}' for v in a)})   max |a − one_hot(argmax)| = "
            f"{np.max(np.abs(a - np.eye(5)[1])):.2e}"
        )
    a_tie = scaled[-1]
    print(
        f"  with a tie, z = ({', '.join(f'{float(v):g}' for v in tie)}): c = 1000 gives "
        f"({', '.join(f'{float(v):.4f}' for v in a_tie)}): the tied maxima share the mass, 1/2 each, not a one-hot argmax"
    )

    if not _common.can_plot():
        return
    fig, (ax1, ax2) = plotting.subplots(1, 2, width=4.5, height=3.4)
    cgrid = np.logspace(-1, 2, 200)
    A = np.asarray(softmax_scaled(jnp.asarray(cgrid), jnp.broadcast_to(z, (len(cgrid), 5))))
    for j in range(5):
        ax1.semilogx(cgrid, A[:, j], label=f"a_{j} (z_{j} = {float(z[j]):g})")
    ax1.set(xlabel="c", ylabel="softmax(c·z)_j", title="softmax(c·z) → argmax")
    ax1.legend(fontsize=7)
    zgrid = np.linspace(-4, 6, 200)
    base = np.asarray(z)
    rows = np.repeat(base[None, :], len(zgrid), 0)
    rows[:, 0] = zgrid
    A2 = np.asarray(softmax_scaled(jnp.ones(len(zgrid), F64), jnp.asarray(rows)))
    for j in range(5):
        ax2.plot(zgrid, A2[:, j], label=f"a_{j}")
    ax2.set(xlabel="z_0 (others fixed)", ylabel="a_j", title="raising z_0: a_0 up, all others down")
    ax2.legend(fontsize=7)
    _common.save_figure(fig, "ex_softmax", args)


if __name__ == "__main__":
    main()
