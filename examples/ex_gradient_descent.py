"""Gradient descent with a fixed step length, in 2-D and 1-D, and online (m = 1) against mini-batch (m = 20) learning.

Run it as is::

    python examples/ex_gradient_descent.py            # about half a minute on a 2-core CPU
    python examples/ex_gradient_descent.py --quick    # 10,000 training images, 2 epochs
    python examples/ex_gradient_descent.py --out DIR  # put the figure in DIR

The book's chapter 1 exercises. (1) Among steps of fixed length ‖Δv‖ = ε, the one that
decreases C the most (to first order, ΔC ≈ ∇C·Δv) is Δv = −ε∇C/‖∇C‖ (Cauchy–Schwarz). (2) In
one dimension this step is v ← v − ε·sgn C'(v): a fixed step left or right, downhill.
(3) Online learning (mini-batch size m = 1) against m = 20 on MNIST with jaxnn.sgd.
"""

import _common
import jax
import jax.numpy as jnp
import numpy as np

import jaxnn
from jaxnn import plotting


def bowl(v):
    """A 2-D bowl, steeper along v2: C(v) = ½(v1² + 10·v2²), minimum 0 at the origin."""
    return 0.5 * (v[0] ** 2 + 10.0 * v[1] ** 2)


def curve(v):
    """A 1-D cost with its minimum at v = 1: C(v) = (v − 1)² + 0.5."""
    return (v - 1.0) ** 2 + 0.5


def fixed_length(C, v0, eps, steps):
    """v ← v − ε ∇C/‖∇C‖, the steepest step of length ε (in 1-D, v ← v − ε·sgn C'(v))."""
    grad = jax.jit(jax.grad(C))  # one compile; the loop below is plain NumPy
    vs = [np.asarray(v0, np.float64)]
    for _ in range(steps):
        g = np.asarray(grad(jnp.asarray(vs[-1], jnp.float32)), np.float64)
        norm = np.linalg.norm(np.atleast_1d(g))
        vs.append(vs[-1] - eps * g / norm if norm > 0 else vs[-1])  # stop where ∇C = 0
    return np.stack(vs)


def plain(C, v0, eta, steps):
    """v ← v − η ∇C."""
    grad = jax.jit(jax.grad(C))
    vs = [np.asarray(v0, np.float64)]
    for _ in range(steps):
        vs.append(vs[-1] - eta * np.asarray(grad(jnp.asarray(vs[-1], jnp.float32)), np.float64))
    return np.stack(vs)


def main():
    args = _common.parser(__doc__, "10,000 training images and 2 epochs for the MNIST part").parse_args()

    # -- (1) the best direction for a step of length ε
    v = np.array([2.0, 1.0])
    g = np.asarray(jax.grad(bowl)(jnp.asarray(v, jnp.float32)), np.float64)
    eps = 0.1
    angles = np.linspace(0, 2 * np.pi, 3601)[:-1]
    steps = eps * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    first_order = steps @ g
    best = steps[np.argmin(first_order)]
    rule = -eps * g / np.linalg.norm(g)
    print("(1) 2-D bowl C(v) = ½(v1² + 10 v2²) at v = (2, 1), ∇C = (2, 10) (jax.grad), steps of length ε = 0.1")
    print(f"  best of 3,600 directions:  Δv = ({best[0]:+.4f}, {best[1]:+.4f}), ∇C·Δv = {np.min(first_order):.4f}")
    print(
        f"  −ε ∇C/‖∇C‖:                Δv = ({rule[0]:+.4f}, {rule[1]:+.4f}), ∇C·Δv = {rule @ g:.4f}"
        f" = −ε‖∇C‖ = {-eps * np.linalg.norm(g):.4f}"
    )
    print(f"  true change of C for that step: {bowl(v + rule) - bowl(v):.4f} (first order is exact only as ε → 0)")
    n_steps = 60 if args.quick else 200
    fl = fixed_length(bowl, v, eps, n_steps)
    gd = plain(bowl, v, 0.09, n_steps)
    c_fl = bowl(fl.T)
    c_gd = bowl(gd.T)
    print(
        f"  after {n_steps} steps: fixed length ε = 0.1 → C = {c_fl[-1]:.3g}; plain Δv = −η∇C, η = 0.09 → C = {c_gd[-1]:.3g}"
    )
    print(
        f"  fixed-length steps cannot settle: in the last 20 steps C ranges over [{np.min(c_fl[-20:]):.3g}, "
        f"{np.max(c_fl[-20:]):.3g}] and rises in {int(np.sum(np.diff(c_fl[-20:]) > 0))} of them"
    )

    # -- (2) one dimension
    print()
    print("(2) 1-D: C(v) = (v − 1)² + 0.5, v ← v − ε·sgn C'(v), ε = 0.3, from v = −1.05")
    v1 = fixed_length(curve, -1.05, 0.3, 12)
    c1 = curve(v1)
    print("  v: " + " ".join(f"{t:+.2f}" for t in v1))
    rises = [(i, c1[i], c1[i + 1]) for i in range(len(c1) - 1) if c1[i + 1] > c1[i]]
    print(
        f"  the step moves ε = 0.3 downhill until it passes the minimum, then jumps back and forth: "
        f"C rises in {len(rises)} of 12 steps (first at step {rises[0][0] + 1}: {rises[0][1]:.4f} → {rises[0][2]:.4f})"
    )
    big = plain(curve, -1.05, 1.05, 6)
    print(
        "  plain v ← v − ηC'(v) with η = 1.05 > 2/C'' = 1: |v − 1| = "
        + ", ".join(f"{abs(t - 1):.2f}" for t in big)
        + " (grows: each step overshoots)"
    )

    # -- (3) online against mini-batch learning
    data = jaxnn.load_mnist()
    n, epochs = (10_000, 2) if args.quick else (50_000, 8)
    train = (data.training.x[:n], data.training.y[:n])
    runs = [(1, 0.3), (20, 6.0)] + ([] if args.quick else [(1, 3.0)])
    print()
    print(f"(3) MNIST, [784, 30, 10], quadratic cost, {n:,} training images, {epochs} epochs, same initial weights")
    print("  η scaled with m so that every example moves the weights by the same η/m = 0.3 as the book's")
    print(
        "  η = 3.0, m = 10 (w ← w − (η/m) Σ_x ∇C_x)"
        + ("" if args.quick else "; one more run keeps the book's η = 3.0 at m = 1")
    )
    print(
        f"  {'m':>3} {'η':>5}  {'test accuracy per epoch':<{8 * epochs}} {'s/epoch*':>8} {'steps/s':>9} {'examples/s':>11}"
    )
    curves = {}
    init = jax.jit(jaxnn.init_params, static_argnums=(1, 2))
    for m, eta in runs:
        params = init(jax.random.key(0), (784, 30, 10), "large")
        _, h = jaxnn.sgd(params, train, epochs, m, eta, key=jax.random.key(1), evaluation_data=data.test)
        per_epoch = float(np.min(h.seconds[1:]))  # the first epoch also compiles; the fastest is least disturbed
        acc = h.evaluation_accuracy
        curves[(m, eta)] = (acc, per_epoch)
        print(
            f"  {m:>3} {eta:>5g}  {' '.join(f'{a:7.2%}' for a in acc):<{8 * epochs}} {per_epoch:>8.3f} "
            f"{n / m / per_epoch:>9,.0f} {n / per_epoch:>11,.0f}"
        )
    print("  * the fastest epoch after the first (which also compiles), on this machine")
    (acc1, t1), (acc20, t20) = curves[(1, 0.3)], curves[(20, 6.0)]
    print(f"  per epoch: m = 1 reaches {acc1[-1]:.2%}, m = 20 reaches {acc20[-1]:.2%} after {epochs} epochs")
    print(
        f"  per second: an m = 20 epoch takes {t20 / t1:.2f}× the time of an m = 1 epoch; m = 1 makes "
        f"{(n / t1) / (n / 20 / t20):.1f}× as many steps per second, m = 20 gets through {t1 / t20:.1f}× as many examples"
    )

    if not _common.can_plot():
        return
    fig, axes = plotting.subplots(1, 4, width=3.6, height=3.2)
    ax = axes[0]
    a, b = np.meshgrid(np.linspace(-2.5, 2.5, 101), np.linspace(-1.3, 1.3, 101))
    ax.contour(a, b, 0.5 * (a**2 + 10 * b**2), levels=15, linewidths=0.5, colors="gray")
    ax.plot(fl[:, 0], fl[:, 1], ".-", ms=3, label="fixed length ε=0.1")
    ax.plot(gd[:, 0], gd[:, 1], ".-", ms=3, label="−η∇C, η=0.09")
    ax.set(xlabel="v1", ylabel="v2", title="2-D bowl")
    ax.legend(fontsize=7)
    ax = axes[1]
    ax.semilogy(c_fl, label="fixed length")
    ax.semilogy(c_gd, label="−η∇C")
    ax.set(xlabel="step", ylabel="C", title="cost per step")
    ax.legend(fontsize=7)
    ax = axes[2]
    grid = np.linspace(-1.5, 2.5, 200)
    ax.plot(grid, curve(grid), "gray")
    ax.plot(v1, c1, "o-", ms=4)
    ax.set(xlabel="v", ylabel="C(v)", title="1-D, v ← v − ε·sgn C'(v)")
    ax = axes[3]
    for (m, eta), (acc, t) in curves.items():
        ax.plot(t * np.arange(1, epochs + 1), acc, "o-", ms=3, label=f"m={m}, η={eta:g}")
    ax.set(xlabel="seconds of training (fastest epoch × epochs)", ylabel="test accuracy", title="online vs mini-batch")
    ax.legend(fontsize=7)
    _common.save_figure(fig, "ex_gradient_descent", args)


if __name__ == "__main__":
    main()
