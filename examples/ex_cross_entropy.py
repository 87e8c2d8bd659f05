"""The cross-entropy cost: minimised at σ(z) = y, its minimum is the binary entropy, and the swapped form fails.

Run it as is::

    python examples/ex_cross_entropy.py            # float64 checks, then a small training run
    python examples/ex_cross_entropy.py --quick    # fewer targets and epochs
    python examples/ex_cross_entropy.py --out DIR  # put the figure in DIR

The book's chapter 3 exercises on the cross-entropy C = −[y ln a + (1 − y) ln(1 − a)], a = σ(z):

1. For y ∈ [0, 1], C is minimised over z where σ(z) = y, and the minimum is the binary entropy
   H(y) = −[y ln y + (1 − y) ln(1 − y)]. In z: dC/dz = σ(z) − y, d²C/dz² = σ'(z) > 0 (convex).
   For y = 0 or 1 the infimum 0 is approached as z → ∓∞ but never reached.
2. The swapped expression −[a ln y + (1 − a) ln(1 − y)] is infinite (or NaN) at y = 0 or 1,
   and for 0 < y < 1 it is linear in a, so its minimum is at a = 0 or a = 1, never at a = y.
The cost is jaxnn's registered "cross-entropy" (jaxnn.costs), computed from z as jaxnn does.
"""

import jax

jax.config.update("jax_enable_x64", True)  # before any array is made

import _common  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxnn  # noqa: E402
from jaxnn import plotting  # noqa: E402

CE = jaxnn.costs.get("cross-entropy")
SIGMOID = jaxnn.activations.get("sigmoid")


@jax.jit
def cost_z(z, y):
    """jaxnn's cross-entropy of one sigmoid output with pre-activation z and target y."""
    return CE.value_z(jnp.reshape(z, (1, 1)), jnp.reshape(y, (1, 1)), SIGMOID)[0]


def entropy(y):
    y = np.asarray(y, np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.nan_to_num(y * np.log(y)) - np.nan_to_num((1 - y) * np.log(1 - y))


def swapped(a, y):
    """The wrong form −[a ln y + (1 − a) ln(1 − y)], evaluated in IEEE arithmetic."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return -(a * np.log(y) + (1 - a) * np.log(1 - y))


@jax.jit
def minimise(y):
    """Newton's method on C(z) from z = 0, with dC/dz and d²C/dz² from jax.grad."""
    d1 = jax.grad(cost_z)
    d2 = jax.grad(d1)

    def step(z, _):
        return z - d1(z, y) / d2(z, y), None

    z, _ = jax.lax.scan(step, jnp.zeros((), jnp.float64), None, length=50)
    return z, cost_z(z, y), d1(z, y), d2(z, y)


def main():
    args = _common.parser(__doc__, "fewer targets and a shorter training run").parse_args()

    ys = [0.05, 0.3, 0.5, 0.8] if args.quick else [0.01, 0.05, 0.1, 0.3, 0.5, 0.7, 0.8, 0.95, 0.99]
    print("1. minimise C(z) = −[y ln σ(z) + (1 − y) ln(1 − σ(z))] over z (Newton, derivatives from jax.grad)")
    print(
        f"  {'y':>5} {'z*':>9} {'σ(z*)':>9} {'C(z*)':>9} {'H(y)':>9} {'dC/dz':>9} {'d²C/dz²':>9} {'σ(z*)(1−σ(z*))':>15}"
    )
    for y in ys:
        z, c, d1, d2 = (float(v) for v in minimise(jnp.float64(y)))
        a = 1 / (1 + np.exp(-z))
        print(f"  {y:>5g} {z:>9.4f} {a:>9.6f} {c:>9.6f} {entropy(y):>9.6f} {d1:>9.1e} {d2:>9.5f} {a * (1 - a):>15.5f}")
    print("  σ(z*) = y and C(z*) = H(y); dC/dz = σ(z) − y, and d²C/dz² = σ'(z) > 0: C is convex in z")
    for y in (0.0, 1.0):
        zs = (-10.0, -20.0, -40.0) if y == 0 else (10.0, 20.0, 40.0)
        print(
            f"  y = {y:g}: C at z = {', '.join(f'{z:g}' for z in zs)}: "
            + ", ".join(f"{float(cost_z(jnp.float64(z), jnp.float64(y))):.3g}" for z in zs)
            + " → 0 = H(y), reached only in the limit"
        )

    # the derivative with respect to a, which one note writes as (a − y)
    a0, y0 = 0.8, 0.3
    dC_da = float(jax.jit(jax.grad(lambda a: -(y0 * jnp.log(a) + (1 - y0) * jnp.log1p(-a))))(a0))
    print(
        f"  at a = {a0}, y = {y0}: dC/da = {dC_da:.4f} = (a − y)/(a(1 − a)) = {(a0 - y0) / (a0 * (1 - a0)):.4f}; "
        f"a − y = {a0 - y0:.4f} is dC/dz, not dC/da"
    )

    # several inputs, one neuron: the Hessian in (w, b) is Σ σ'(z) [x; 1][x; 1]ᵀ / n
    X = jnp.array([[1.0, -2.0], [0.5, 1.5], [-1.0, 0.3]])
    Y = jnp.array([[0.2], [0.7], [0.4]])
    theta = jnp.array([0.3, -0.2, 0.1])  # (w1, w2, b)

    def mean_cost(t):
        return jaxnn.loss([{"w": t[None, :2], "b": t[2:]}], X, Y, cost="cross-entropy")

    H = jax.jit(jax.hessian(mean_cost))(theta)
    eig = np.linalg.eigvalsh(np.asarray(H))
    print(
        f"  one neuron, 3 inputs with mixed signs: Hessian of the mean cost in (w1, w2, b) has ∂²C/∂w1∂w2 = {float(H[0, 1]):.4f} (< 0),"
    )
    print(
        f"  eigenvalues {', '.join(f'{e:.4f}' for e in eig)} (all ≥ 0): the Hessian is positive semidefinite, its entries need not be positive"
    )

    # training a neuron towards fractional targets
    targets = np.array([0.1, 0.3, 0.5, 0.7, 0.9])
    reps, epochs = (100, 20) if args.quick else (200, 60)
    x_train = np.tile(np.eye(5), (reps, 1))  # input i is the unit vector e_i, so each target has its own weight
    y_train = np.tile(targets[:, None], (reps, 1))
    params = [{"w": jnp.zeros((1, 5)), "b": jnp.zeros(1)}]
    params, _ = jaxnn.sgd(params, (x_train, y_train), epochs, 10, 1.0, key=0, cost="cross-entropy")
    out = np.asarray(jaxnn.forward(params, np.eye(5)))[:, 0]
    final = float(jaxnn.loss(params, np.eye(5), targets[:, None], cost="cross-entropy"))
    print()
    print(
        f"  jaxnn.sgd, one neuron with 5 inputs e_1..e_5, targets y = {', '.join(f'{t:g}' for t in targets)}, cross-entropy, {epochs} epochs:"
    )
    print(
        f"  outputs σ(z) = {', '.join(f'{v:.4f}' for v in out)}; max |σ(z) − y| = {np.max(np.abs(out - targets)):.1e}"
    )
    print(f"  mean cost {final:.6f}; mean H(y) = {entropy(targets).mean():.6f} (the smallest possible)")

    print()
    print("2. the swapped form −[a ln y + (1 − a) ln(1 − y)]")
    for y in (0.0, 1.0):
        vals = swapped(np.array([0.0, 0.3, 1.0]), y)
        print(f"  y = {y:g}: at a = 0, 0.3, 1 it is {', '.join(str(v) for v in vals)} (ln 0 = −inf; 0·(−inf) = nan)")
    y = 0.3
    grid = np.linspace(0.001, 0.999, 999)
    vals = swapped(grid, y)
    print(
        f"  y = {y}: it is linear in a with slope ln((1 − y)/y) = {np.log((1 - y) / y):.4f}; over a in (0, 1) its minimum is at "
        f"a = {grid[np.argmin(vals)]:.3f}, not at a = y"
    )
    big = 40.0  # σ(40) rounds to exactly 1 in float64
    a_sat = float(jax.nn.sigmoid(big))
    with np.errstate(divide="ignore", invalid="ignore"):
        naive = -(1.0 * np.log(a_sat) + (1 - 1.0) * np.log(1 - a_sat))
    print(
        f"  the right form can also hit 0·ln 0: at z = {big:g}, σ(z) = {a_sat!r} and y = 1, −[y ln a + (1 − y) ln(1 − a)] "
        f"evaluated naively is {naive}; jaxnn, from z, gives {float(cost_z(jnp.float64(big), jnp.float64(1.0))):.3g}"
    )

    if not _common.can_plot():
        return
    fig, (ax1, ax2) = plotting.subplots(1, 2, width=4.5, height=3.4)
    a = np.linspace(0.001, 0.999, 999)
    for y in (0.1, 0.3, 0.8):
        with np.errstate(divide="ignore", invalid="ignore"):
            ce = -(y * np.log(a) + (1 - y) * np.log(1 - a))
        line = ax1.plot(a, ce, label=f"y = {y}")[0]
        ax1.plot(a, swapped(a, y), ":", color=line.get_color())
        ax1.plot([y], [entropy(y)], "o", color=line.get_color())
    ax1.set(xlabel="a = σ(z)", ylabel="cost", ylim=(0, 3), title="C (solid), swapped form (dotted)")
    ax1.legend(fontsize=8)
    yy = np.linspace(0, 1, 401)
    ax2.plot(yy, entropy(yy), label="H(y)")
    mins = [float(minimise(jnp.float64(y))[1]) for y in ys]
    ax2.plot(ys, mins, "o", label="min over z of C (jaxnn)")
    ax2.set(xlabel="y", ylabel="nats", title="binary entropy H(y)")
    ax2.legend(fontsize=8)
    _common.save_figure(fig, "ex_cross_entropy", args)


if __name__ == "__main__":
    main()
