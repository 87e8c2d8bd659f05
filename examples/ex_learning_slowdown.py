"""Learning slowdown: one sigmoid neuron taught to map input 1 to output 0, quadratic against cross-entropy cost.

Run it as is::

    python examples/ex_learning_slowdown.py            # 300 epochs from (w, b) = (0.6, 0.9) and (2, 2)
    python examples/ex_learning_slowdown.py --quick    # 100 epochs
    python examples/ex_learning_slowdown.py --out DIR  # put the figure in DIR

The book's chapter 3 opening example: a single neuron, a = σ(w·1 + b), target y = 0,
η = 0.15, one example per epoch. With the quadratic cost C = a²/2,
∂C/∂w = ∂C/∂b = a·σ'(z) = a²(1 − a), which is tiny when the neuron starts saturated near
a = 1; with the cross-entropy C = −ln(1 − a), ∂C/∂w = ∂C/∂b = a − y = a, with no σ'(z) factor.
The script trains with jaxnn.sgd (a callback records w and b after every epoch) and checks
the trajectories against those closed-form updates.
"""

import jax

jax.config.update("jax_enable_x64", True)  # float64, to compare with the closed-form updates exactly

import _common  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxnn  # noqa: E402
from jaxnn import plotting  # noqa: E402

ETA = 0.15
STARTS = [(0.6, 0.9), (2.0, 2.0)]
COSTS = ["quadratic", "cross-entropy"]


def train(w0, b0, cost, epochs):
    """jaxnn.sgd on the single example x = 1, y = 0; returns w and b before every epoch and after the last."""
    params = [{"w": jnp.array([[w0]]), "b": jnp.array([b0])}]
    ws, bs = [w0], [b0]

    def record(epoch, p, history):
        ws.append(float(p[0]["w"][0, 0]))
        bs.append(float(p[0]["b"][0]))

    data = (np.ones((1, 1)), np.zeros((1, 1)))
    jaxnn.sgd(params, data, epochs, 1, ETA, key=0, cost=cost, callback=record)
    return np.array(ws), np.array(bs)


def closed_form(w0, b0, cost, epochs):
    """The same updates written out: w, b ← w, b − η a²(1 − a) (quadratic) or − η a (cross-entropy)."""
    w, b = [w0], [b0]
    for _ in range(epochs):
        a = 1 / (1 + np.exp(-(w[-1] + b[-1])))
        step = a * a * (1 - a) if cost == "quadratic" else a
        w.append(w[-1] - ETA * step)
        b.append(b[-1] - ETA * step)
    return np.array(w), np.array(b)


def cost_of(a, cost):
    return 0.5 * a**2 if cost == "quadratic" else -np.log1p(-a)


def main():
    args = _common.parser(__doc__, "100 epochs instead of 300").parse_args()
    epochs = 100 if args.quick else 300

    runs = {}
    print(f"one neuron, input 1, target 0, η = {ETA}, {epochs} epochs (float64)")
    print(
        f"  {'start (w, b)':<13} {'cost':<14} {'a at epoch 0':>12} {'∂C/∂b at 0':>11} "
        f"{'epochs to a < 0.5':>17} {'final w':>8} {'final b':>8} {'final a':>8} {'final C':>8} {'vs closed form':>14}"
    )
    for w0, b0 in STARTS:
        for cost in COSTS:
            ws, bs = train(w0, b0, cost, epochs)
            cw, cb = closed_form(w0, b0, cost, epochs)
            a = 1 / (1 + np.exp(-(ws + bs)))
            runs[(w0, b0, cost)] = (ws, bs, a, cost_of(a, cost))
            grad0 = a[0] ** 2 * (1 - a[0]) if cost == "quadratic" else a[0]
            below = np.argmax(a < 0.5) if np.any(a < 0.5) else None
            diff = max(np.max(np.abs(ws - cw)), np.max(np.abs(bs - cb)))
            print(
                f"  ({w0:g}, {b0:g}){'':<{13 - len(f'({w0:g}, {b0:g})')}} {cost:<14} {a[0]:>12.4f} {grad0:>11.4f} "
                f"{str(below) if below is not None else 'never':>17} {ws[-1]:>8.4f} {bs[-1]:>8.4f} {a[-1]:>8.4f} "
                f"{cost_of(a[-1], cost):>8.4f} {diff:>14.1e}"
            )
    qa, qb = runs[(0.6, 0.9, "quadratic")][2][-1], runs[(2.0, 2.0, "quadratic")][2][-1]
    print(f"quadratic cost, final output: {qa:.3f} from (0.6, 0.9) and {qb:.3f} from (2, 2) after {epochs} epochs")
    print("(the book's figures end near 0.09 and 0.2 after 300 epochs)")
    for w0, b0 in STARTS:
        a = runs[(w0, b0, "quadratic")][2]
        if epochs >= 150:
            print(
                f"  from ({w0:g}, {b0:g}), quadratic: a at epochs 0, 50, 100, 150, {epochs}: "
                + ", ".join(f"{a[e]:.3f}" for e in (0, 50, 100, 150, epochs))
            )
    a_ce = runs[(2.0, 2.0, "cross-entropy")][2]
    print(
        f"cross-entropy from (2, 2): output {a_ce[-1]:.4f} after {epochs} epochs; it passes 0.2 at epoch {int(np.argmax(a_ce < 0.2))}"
    )

    if not _common.can_plot():
        return
    fig, axes = plotting.subplots(2, 4, width=3.0, height=2.5)
    for row, (w0, b0) in enumerate(STARTS):
        for cost, style in zip(COSTS, ["-", "--"]):
            ws, bs, a, c = runs[(w0, b0, cost)]
            for ax, series, name in zip(axes[row], [ws, bs, a, c], ["weight", "bias", "output", "cost"]):
                ax.plot(series, style, label=cost)
                ax.set(title=f"{name}, start ({w0:g}, {b0:g})", xlabel="epoch")
        axes[row, 0].legend(fontsize=7)
    _common.save_figure(fig, "ex_learning_slowdown", args)


if __name__ == "__main__":
    main()
