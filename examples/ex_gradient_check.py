"""Finite-difference check of jaxnn.backprop on a live MNIST network, in float64.

Run it as is::

    python examples/ex_gradient_check.py            # 2 epochs of training, 300 coordinates per weight matrix
    python examples/ex_gradient_check.py --quick    # 1 epoch on 5,000 images, 60 coordinates
    python examples/ex_gradient_check.py --out DIR  # put the figure in DIR

Backpropagation is checked the way the book suggests (chapter 2, "In what sense is
backpropagation a fast algorithm?"): each partial derivative is estimated by a central
difference, ∂C/∂θ ≈ (C(θ + h) − C(θ − h)) / 2h, and compared with BP1–BP4. The network is the
book's [784, 30, 10] (sigmoid, quadratic cost), trained briefly with jaxnn.sgd so that its
weights are not the random start. It also compares the fully matrix-based backprop over a
mini-batch (the chapter 2 problem) with network.py's loop over examples.
"""

import functools
import time

import jax

jax.config.update("jax_enable_x64", True)  # before any array is made

import _common  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import jaxnn  # noqa: E402
from jaxnn import plotting  # noqa: E402

H64, H32 = 1e-5, 1e-2  # step sizes; the sweep below shows why (truncation error ∝ h², rounding ∝ 1/h)
SWEEP = [1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8]


def central_differences(params, x, y, layer, name, coords, h):
    """(C(θ + h e_i) − C(θ − h e_i)) / 2h for each sampled coordinate i of params[layer][name]."""

    def cost_at(index, sign):
        p = [dict(l) for l in params]
        p[layer][name] = params[layer][name].at[index].add(sign * h)
        return jaxnn.loss(p, x, y)

    def one(index):
        return (cost_at(index, 1.0) - cost_at(index, -1.0)) / (2 * h)

    return jax.lax.map(one, coords, batch_size=64)


def relative_errors(fd, bp):
    """|fd − bp| / max(|fd|, |bp|) where backprop's derivative is not exactly 0.

    Weights from a pixel that is blank in every image of the batch have derivative exactly 0;
    there the central difference is rounding noise alone, and is reported as an absolute value.
    """
    zero = bp == 0
    scale = np.maximum(np.abs(fd), np.abs(bp))[~zero]
    return np.abs(fd - bp)[~zero] / scale, int(np.sum(zero)), float(np.max(np.abs(fd[zero]), initial=0.0))


def sample_coords(params, k, rng):
    """k random coordinates of each w (all of each b when it has fewer), as index tuples."""
    coords = []
    for l in range(len(params)):
        for name in ("w", "b"):
            shape = params[l][name].shape
            size = int(np.prod(shape))
            flat = rng.choice(size, min(k, size), replace=False)
            coords.append((l, name, tuple(jnp.asarray(c) for c in np.unravel_index(flat, shape))))
    return coords


@functools.lru_cache(maxsize=None)
def compiled_check(which):
    """One compiled function for the sampled parameter arrays ``which`` ((layer, name) pairs)."""

    @jax.jit
    def both(params, x, y, idx, h):
        grads = jaxnn.backprop(params, x, y)
        return [
            (central_differences(params, x, y, l, name, c, h), grads[l][name][c]) for (l, name), c in zip(which, idx)
        ]

    return both


def check(params, x, y, coords, h):
    """Central differences and jaxnn.backprop at the sampled coordinates, with statistics per array."""
    both = compiled_check(tuple((l, name) for l, name, _ in coords))
    rows = []
    results = both(params, x, y, [c for _, _, c in coords], jnp.asarray(h, params[0]["w"].dtype))
    for (l, name, c), (fd, bp) in zip(coords, results):
        fd, bp = np.asarray(fd), np.asarray(bp)
        rel, zeros, noise = relative_errors(fd, bp)
        rows.append(
            (
                f"{name}{l + 1} {tuple(params[l][name].shape)}",
                len(fd),
                (zeros, noise),
                rel,
                np.linalg.norm(fd - bp) / np.linalg.norm(bp),
                np.max(np.abs(fd - bp)),
                np.max(np.abs(bp)),
                fd,
                bp,
            )
        )
    return rows


def overall(rows):
    """‖fd − bp‖ / ‖bp‖ over every sampled coordinate of every array."""
    fd = np.concatenate([r[7] for r in rows])
    bp = np.concatenate([r[8] for r in rows])
    return np.linalg.norm(fd - bp) / np.linalg.norm(bp)


def sweep(params, p32, x, y, coords):
    """‖fd − bp‖/‖bp‖ for a range of h: truncation error falls as h², rounding error grows as 1/h."""
    print()
    print("choice of h: ‖fd − bp‖/‖bp‖ over all sampled coordinates")
    sweep64 = [overall(check(params, x, y, coords, h)) for h in SWEEP]
    sweep32 = [overall(check(p32, x.astype(np.float32), y, coords, h)) for h in SWEEP]
    print(f"  {'h':>8} " + " ".join(f"{h:>8.0e}" for h in SWEEP))
    print(f"  {'float64':>8} " + " ".join(f"{e:>8.1e}" for e in sweep64))
    print(f"  {'float32':>8} " + " ".join(f"{e:>8.1e}" for e in sweep32))


def main():
    args = _common.parser(__doc__, "1 epoch on 5,000 images and 60 coordinates per matrix").parse_args()
    n_train, epochs, k = (5_000, 1, 60) if args.quick else (50_000, 2, 300)

    data = jaxnn.load_mnist()  # float32; the parts used are converted to float64
    params = jaxnn.init_params(jax.random.key(0), [784, 30, 10], "large", dtype=jnp.float64)
    train = (data.training.x[:n_train].astype(np.float64), data.training.y[:n_train])
    params, history = jaxnn.sgd(
        params,
        train,
        epochs,
        10,
        3.0,
        key=jax.random.key(1),
        evaluation_data=(data.test.x.astype(np.float64), data.test.y),
    )
    print(
        f"[784, 30, 10], sigmoid, quadratic cost, float64, trained {epochs} epoch(s) on {n_train:,} images: "
        f"test accuracy {history.evaluation_accuracy[-1]:.2%}"
    )

    x, y = data.validation.x[:100].astype(np.float64), data.validation.y[:100]
    print(
        f"gradient of the mean cost over 100 validation images; central differences, h = {H64:g} (float64), "
        f"{k} random coordinates per weight matrix, every bias"
    )
    coords = sample_coords(params, k, np.random.default_rng(0))
    rows64 = check(params, x, y, coords, H64)
    p32 = jax.tree_util.tree_map(lambda a: a.astype(jnp.float32), params)
    rows32 = check(p32, x.astype(np.float32), y, coords, H32)

    header = (
        f"  {'parameter':<14} {'sampled':>8} {'bp = 0 (|fd| there)':>20} {'max rel err':>12} {'median rel err':>15} "
        f"{'‖fd − bp‖/‖bp‖':>15} {'max |fd − bp|':>14} {'max |bp|':>9}"
    )
    print(header)
    for name, n, zeros, rel, norm, absmax, scale, *_ in rows64:
        print(
            f"  {name:<14} {n:>8} {f'{zeros[0]} ({zeros[1]:.0e})' if zeros[0] else '0':>20} {rel.max():>12.2e} {np.median(rel):>15.2e} {norm:>15.2e} {absmax:>14.1e} {scale:>9.1e}"
        )
    fd_all = np.concatenate([r[7] for r in rows64])
    bp_all = np.concatenate([r[8] for r in rows64])
    scale = np.maximum(np.abs(fd_all), np.abs(bp_all))
    rel_all = np.where(bp_all != 0, np.abs(fd_all - bp_all) / np.where(scale > 0, scale, 1.0), 0.0)
    i = int(np.argmax(rel_all))
    print(
        f"float64: ‖fd − bp‖/‖bp‖ is at most {max(r[4] for r in rows64):.1e} per parameter array; the largest single relative"
    )
    print(
        f"error, {rel_all[i]:.1e}, is where ∂C/∂θ = {bp_all[i]:.1e} is tiny (absolute error {abs(fd_all[i] - bp_all[i]):.1e})"
    )
    print()
    print(f"the same check in float32 (h = {H32:g}): rounding in C(θ ± h) limits the finite differences")
    print(header)
    for name, n, zeros, rel, norm, absmax, scale, *_ in rows32:
        print(
            f"  {name:<14} {n:>8} {f'{zeros[0]} ({zeros[1]:.0e})' if zeros[0] else '0':>20} {rel.max():>12.2e} {np.median(rel):>15.2e} {norm:>15.2e} {absmax:>14.1e} {scale:>9.1e}"
        )

    if not args.quick:
        sweep(params, p32, x, y, coords)

    bp = jax.jit(jaxnn.backprop)
    per = jax.jit(jaxnn.backprop_per_example)
    auto = jax.jit(jaxnn.autodiff_grad)
    g_bp, g_per, g_auto = bp(params, x, y), per(params, x, y), auto(params, x, y)
    diff = lambda a, b: max(
        float(jnp.max(jnp.abs(u - v))) for u, v in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b))
    )
    print()
    print(
        f"matrix-based backprop over the mini-batch vs network.py's loop over examples: max diff {diff(g_bp, g_per):.1e}; "
        f"vs jax.grad: {diff(g_bp, g_auto):.1e}"
    )
    timings = {}
    for label, fn in [("matrix-based", bp), ("per-example loop", per)]:
        runs = []
        for _ in range(5 if args.quick else 50):
            start = time.perf_counter()
            jax.block_until_ready(fn(params, x, y))
            runs.append(time.perf_counter() - start)
        timings[label] = float(np.median(runs))
    print(
        f"  median time for the 100-image mini-batch (jitted, float64): matrix-based {timings['matrix-based'] * 1e3:.2f} ms, "
        f"per-example loop {timings['per-example loop'] * 1e3:.2f} ms"
    )

    if not _common.can_plot():
        return
    fig, ax = plotting.subplots(1, 1, width=6.0, height=3.4)
    bins = np.logspace(-14, 1, 61)
    for rows, style in [(rows64, "-"), (rows32, "--")]:
        for name, _, _, rel, *_ in rows:
            ax.hist(
                np.maximum(rel, 1e-14),
                bins=bins,
                histtype="step",
                linestyle=style,
                label=f"{name.split(' ')[0]}, {'float64' if rows is rows64 else 'float32'}",
            )
    ax.set(
        xscale="log",
        xlabel="relative error, central difference vs jaxnn.backprop",
        ylabel="coordinates",
        title="gradient check, [784, 30, 10] on MNIST",
    )
    ax.legend(fontsize=7, ncol=2)
    _common.save_figure(fig, "ex_gradient_check", args)


if __name__ == "__main__":
    main()
