"""Sweeps: many networks trained at once, as one compiled program per epoch, with ``jax.vmap``.

A sweep crosses seeds with values of η, λ and the dropout rate p, stacks every network's
parameters along a leading axis, and vmaps the same epoch function that [`jaxnn.sgd`][jaxnn.training.sgd] runs.
Each configuration gets exactly the keys that a single run with its seed gets, so a sweep
equals the same configurations trained one by one (``tests/test_sweep.py`` shows it), up to
rounding: the sweep writes each forward product as (w @ aᵀ)ᵀ, which XLA computes without
copying the stacked weights, and which can round differently from ``jaxnn.sgd``'s ``a @ w.T``
in the last bits. Networks with the same seed share their data order, so each step's
mini-batch meets all their first layers in one wide matrix product; ``devices=`` spreads the
networks over several devices ([`jaxnn.sharding`][jaxnn.sharding])::

    result = jaxnn.sweep([784, 30, 10], data.training, epochs=30, mini_batch_size=10,
                         eta=0.5, lmbda=[0, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 0.1], seeds=[0, 1, 2],
                         cost="cross-entropy", evaluation_data=data.test)
    print(result.table())
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import itertools
import json
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from jaxnn import distributed, memory, optim, progress, sharding, validation
from jaxnn._files import atomic_write
from jaxnn._setup import setup
from jaxnn.checkpoint import check_path, load_sweep_checkpoint, save_sweep_checkpoint
from jaxnn.errors import JaxnnError
from jaxnn.initializers import initializers
from jaxnn.net import Network, init_network, net_metrics
from jaxnn.training import GATHER_BYTES, GATHER_STEPS, chunk_rows, epoch_body, epoch_key, in_chunks, structure
from jaxnn.validation import positive_float, positive_int

#: A sweep whose stacked parameters take more than this many bytes trains its seed groups a few
#: at a time (``lax.map`` over chunks of groups inside the compiled epoch), so that each chunk's
#: weights stay in the CPU's cache through the epoch (see docs/performance.md, "Sweeps over seeds").
CACHE_BYTES = 2 * 2**20
#: ... in chunks of at most this many bytes of parameters (but at least one group).
CHUNK_BYTES = 2**20


def _chunk(groups: int, group_bytes: int) -> int:
    """How many seed groups to train side by side (vmapped); the chunks run one after another."""
    if groups * group_bytes <= CACHE_BYTES:
        return groups
    return max(d for d in range(1, groups + 1) if groups % d == 0 and (d == 1 or d * group_bytes <= CHUNK_BYTES))


def _in_chunks(fn, chunk: int):
    """``fn(state, keys, x, y, hp)`` over (groups, ...) leaves, applied ``chunk`` groups at a time with
    ``lax.map``: the same arithmetic per network, the chunks one after another."""

    def run(state, keys, x, y, hp):
        groups = keys.shape[0]
        if chunk >= groups:
            return fn(state, keys, x, y, hp)
        fold = lambda a: a.reshape(groups // chunk, chunk, *a.shape[1:])  # noqa: E731
        out = jax.lax.map(
            lambda a: fn(a[0], a[1], x, y, a[2]),
            (jax.tree_util.tree_map(fold, state), fold(keys), jax.tree_util.tree_map(fold, hp)),
        )
        return jax.tree_util.tree_map(lambda a: a.reshape(groups, *a.shape[2:]), out)

    return run


def run_keys(seed: int):
    """The (init, shuffle) keys of a run with ``seed``: the same split the CLI and the examples use."""
    return jax.random.split(validation.prng_key(int(seed)))


@dataclasses.dataclass
class SweepResult:
    """The outcome of [`sweep`][jaxnn.sweep.sweep].

    Attributes:
      configs: one dict per network: ``seed``, ``eta``, ``lmbda``, ``p_dropout``.
      params: the trained parameters, stacked: every leaf has a leading axis of ``len(configs)``.
      evaluation_correct: ``(networks, epochs)`` correct counts on the evaluation data.
      evaluation_size: the number of evaluation examples.
      training_cost: ``(networks, epochs)`` network2 training cost, when monitored.
      seconds: wall time of each epoch (the first includes compilation).
      diverged: ``(networks,)`` the epoch (counted from 0, as in `History`)
        in which each network's parameters first became NaN or infinite, −1 for those that stayed
        finite. A diverged network's accuracies from that epoch on are NaN, and the table shows
        "diverged" for it.
    """

    configs: List[Dict]
    params: list
    evaluation_correct: np.ndarray
    evaluation_size: int
    training_cost: Optional[np.ndarray]
    seconds: List[float]
    diverged: Optional[np.ndarray] = None

    def network(self, i: int):
        """The trained parameters of network ``i``, unstacked."""
        return jax.tree_util.tree_map(lambda a: a[i], self.params)

    def _accuracy(self) -> np.ndarray:
        """``(networks, epochs)`` evaluation accuracies, NaN from the epoch a network diverged."""
        if self.evaluation_correct.shape[1] == 0:
            raise JaxnnError(
                "this sweep measured no evaluation accuracy: pass evaluation_data= (and epochs ≥ 1) to sweep"
            )
        acc = self.evaluation_correct / self.evaluation_size
        if self.diverged is not None:
            epoch = np.arange(acc.shape[1])
            acc = np.where((self.diverged[:, None] >= 0) & (epoch[None, :] >= self.diverged[:, None]), np.nan, acc)
        return acc

    @property
    def best_accuracy(self) -> np.ndarray:
        """Each network's best evaluation accuracy over the epochs before any divergence (fractions;
        NaN when it diverged in the first epoch)."""
        acc = self._accuracy()
        return np.where(np.isnan(acc).all(axis=1), np.nan, np.max(np.nan_to_num(acc, nan=-1.0), axis=1))

    @property
    def final_accuracy(self) -> np.ndarray:
        """Each network's accuracy after the last epoch (NaN when it diverged)."""
        return self._accuracy()[:, -1]

    def table(self, by: Sequence[str] = ("eta", "lmbda", "p_dropout"), which: str = "best") -> str:
        """A markdown table: one row per setting of ``by``, mean ± sd over seeds (percent)."""
        acc = self.best_accuracy if which == "best" else self.final_accuracy
        groups: Dict[tuple, list] = {}
        for cfg, a in zip(self.configs, acc):
            groups.setdefault(tuple(cfg[k] for k in by), []).append(100 * a)
        lines = [f"| {' | '.join(by)} | {which} accuracy (mean ± sd) | per seed |", "|" + " --- |" * (len(by) + 2)]
        for setting, values in groups.items():
            ok = [v for v in values if not np.isnan(v)]  # diverged networks are shown, not averaged
            sd = f" ± {np.std(ok, ddof=1):.2f}" if len(ok) > 1 else ""
            mean = f"{np.mean(ok):.2f}%{sd}" if ok else "diverged"
            lines.append(
                f"| {' | '.join('—' if v is None else f'{v:g}' for v in setting)} | {mean} | "
                f"{', '.join('diverged' if np.isnan(v) else f'{v:.2f}' for v in values)} |"
            )
        return "\n".join(lines)

    def save(self, path) -> Optional[str]:
        """Writes the result to an ``.npz`` file, atomically, and returns its path; in a run over
        several processes only process 0 writes (the others return ``None``).

        ``np.load(path)`` reads it: ``configs`` (JSON text), ``evaluation_correct``,
        ``evaluation_size``, ``seconds``, ``training_cost`` when monitored, and the stacked
        parameters as ``params/<layer>/<name>``.
        """
        if not distributed.is_writer():
            return None
        arrays: Dict[str, Any] = {
            "configs": np.asarray(json.dumps(self.configs)),
            "evaluation_correct": np.asarray(self.evaluation_correct),
            "evaluation_size": np.asarray(self.evaluation_size),
            "seconds": np.asarray(self.seconds),
        }
        if self.training_cost is not None:
            arrays["training_cost"] = np.asarray(self.training_cost)
        for keys, leaf in jax.tree_util.tree_flatten_with_path(self.params)[0]:
            name = "/".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in keys)
            arrays[f"params/{name}"] = np.asarray(leaf)
        return str(atomic_write(path, lambda f: np.savez(f, **arrays)))

    def to_dict(self) -> Dict[str, Any]:
        """The result without its parameters, as JSON-ready lists: ``configs``, ``evaluation_correct``
        (networks × epochs), ``evaluation_size``, ``best_accuracy``, ``final_accuracy``, ``seconds``,
        ``diverged`` and, when monitored, ``training_cost``. ``jaxnn explore`` draws it as a heat map."""
        out: Dict[str, Any] = {
            "configs": [dict(c) for c in self.configs],
            "evaluation_correct": np.asarray(self.evaluation_correct).astype(int).tolist(),
            "evaluation_size": int(self.evaluation_size),
            # NaN (a network that diverged) is null: JSON has no NaN
            "best_accuracy": [float(a) if np.isfinite(a) else None for a in self.best_accuracy],
            "final_accuracy": [float(a) if np.isfinite(a) else None for a in self.final_accuracy],
            "seconds": [float(t) for t in self.seconds],
        }
        if self.diverged is not None:
            out["diverged"] = [int(d) for d in self.diverged]
        if self.training_cost is not None:
            # a diverged network's cost is NaN or infinite: JSON has no such numbers, so it is null
            out["training_cost"] = [
                [float(c) if np.isfinite(c) else None for c in row] for row in np.asarray(self.training_cost)
            ]
        return out

    def save_json(self, path) -> Optional[str]:
        """Writes [`to_dict`][jaxnn.sweep.SweepResult.to_dict] as JSON, atomically (process 0 only, as
        [`save`][jaxnn.sweep.SweepResult.save]); ``jaxnn sweep --json`` calls it."""
        if not distributed.is_writer():
            return None
        blob = json.dumps(self.to_dict(), indent=1, allow_nan=False).encode()
        return str(atomic_write(path, lambda f: f.write(blob)))


def _split(tree, groups):
    """(networks, ...) leaves as (groups, networks // groups, ...)."""
    return jax.tree_util.tree_map(lambda a: a.reshape(groups, a.shape[0] // groups, *a.shape[1:]), tree)


def _flat(tree):
    return jax.tree_util.tree_map(lambda a: a.reshape(a.shape[0] * a.shape[1], *a.shape[2:]), tree)


def _values(v, name, allow_zero=True):
    vals = list(v) if isinstance(v, (list, tuple)) or (isinstance(v, np.ndarray) and v.ndim) else [v]
    if not vals:
        raise JaxnnError(f"{name} needs at least one value")
    return [positive_float(x, name, allow_zero=allow_zero) for x in vals]


def _fingerprint(configs, s, epochs) -> np.ndarray:
    """A digest of a sweep's settings and data, for checking that every process runs the same sweep."""
    sample, y = np.asarray(s.x[:: max(1, len(s.x) // 1000)]), np.asarray(s.y)  # about 1,000 rows and every label
    h = hashlib.blake2b(digest_size=16)
    h.update(
        json.dumps([configs, s.describe(), epochs, s.mini_batch_size, s.x.shape, str(s.x.dtype)], default=str).encode()
    )
    h.update(np.ascontiguousarray(sample).tobytes() + np.ascontiguousarray(y).tobytes())
    return np.frombuffer(h.digest(), np.uint8)


def _checkpoint_config(configs, s, init: str, momentum: float, monitor_training_cost: bool) -> dict:
    """What a sweep checkpoint must agree with before a sweep resumes from it (JSON-able)."""
    x, y = np.asarray(s.x), np.asarray(s.y)
    h = hashlib.blake2b(np.ascontiguousarray(x[:: max(1, len(x) // 1000)]).tobytes(), digest_size=16)
    h.update(np.ascontiguousarray(y).tobytes())
    if s.evaluation is not None:
        ex, ey = (np.asarray(a) for a in s.evaluation)
        h.update(np.ascontiguousarray(ex[:: max(1, len(ex) // 1000)]).tobytes() + np.ascontiguousarray(ey).tobytes())
    return {
        "configs": [dict(c) for c in configs],
        "network": s.describe(),
        "n": int(len(x)),
        "data": h.hexdigest(),
        "mini_batch_size": s.mini_batch_size,
        "gradient": s.gradient,
        "init": init,
        "momentum": momentum,
        "dtype": str(np.dtype(s.dtype)),
        "evaluating": s.evaluation is not None,
        "shuffle": s.shuffle,
        "last_batch": s.last_batch,
        "lmbda_scale": s.lmbda_scale,
        "monitor_training_cost": bool(monitor_training_cost),
    }


def sweep(
    sizes,
    training_data,
    epochs: int,
    mini_batch_size: int,
    eta,
    *,
    seeds: Sequence[int] = (0,),
    lmbda=0.0,
    p_dropout=None,
    evaluation_data=None,
    init: str = "default",
    cost=None,
    activation=None,
    output_activation=None,
    regularizer=None,
    dropout=None,
    gradient: str = "backprop",
    momentum: float = 0.0,
    shuffle: bool = True,
    last_batch: str = "step",
    lmbda_scale: str = "examples",
    monitor_training_cost: bool = False,
    dtype=jnp.float32,
    show_progress: bool = False,
    devices=None,
    checkpoint=None,
    resume: bool = False,
) -> SweepResult:
    """Trains every combination of ``seeds`` × ``eta`` × ``lmbda`` × ``p_dropout`` at once.

    ``sizes`` is a list of layer widths (network.py's and network2.py's networks, with the
    components named as in [`jaxnn.sgd`][jaxnn.training.sgd]) or any [`Network`][jaxnn.net.Network], a conv net
    say. ``eta``, ``lmbda`` and ``p_dropout`` each take a number or a list; for a network,
    ``p_dropout`` sets the rate of every layer built with dropout (default: the layers' own).
    Network i with seed s is initialised from ``run_keys(s)[0]`` (with ``init`` for a list of
    sizes, [`jaxnn.init_network`][jaxnn.net.init_network] for a network) and shuffled by ``run_keys(s)[1]``, so it
    matches ``jaxnn.sgd`` run alone with those keys. The other arguments are as in
    [`jaxnn.sgd`][jaxnn.training.sgd]; they are shared by all networks.

    ``devices`` spreads the networks over several devices with ``jax.shard_map`` (see
    [`jaxnn.sharding`][jaxnn.sharding]): ``None`` uses every device of ``jax.devices()``, a number uses the
    first that many, and a list uses those. The results equal those of one device. After
    [`jaxnn.distributed.init`][jaxnn.distributed.init], ``jax.devices()`` spans every process: each process runs
    ``sweep`` with the same arguments, trains its share of the networks, and ends with the same
    complete result (see docs/distributed.md).

    ``checkpoint`` names a file written atomically after every epoch with every network's
    parameters and optimizer state, the accuracies so far and the divergence marks (process 0
    writes it, on a file system every process reads). An existing file is refused unless
    ``resume`` is set; with ``resume``, the sweep goes on from the checkpoint's epoch and ends with
    exactly the result of an uninterrupted sweep (each epoch's keys depend only on the seed and the
    epoch number). The checkpoint must come from a sweep with the same settings and data; a
    larger ``epochs`` extends it.

    Speed: the networks of one seed share each mini-batch, so their first layers become one wide
    matrix product; sweeping η, λ or p for a few seeds is where a sweep wins (about 2× the
    throughput of one-by-one runs for 16–64 networks on a 2-core CPU). Every extra seed is an
    extra data order; when all the networks' parameters together exceed `CACHE_BYTES`,
    the seed groups train a chunk at a time (chunks of at most `CHUNK_BYTES`, one after
    another inside the compiled epoch) so that each chunk's weights stay in the CPU's cache
    (see docs/performance.md). The results are the same either way.
    """
    net = sizes if isinstance(sizes, Network) else None
    epochs = positive_int(epochs, "epochs", minimum=0)
    check_path(checkpoint, resume, "sweep")
    seeds = [positive_int(s, "seed", minimum=0) for s in validation.seeds(seeds)]
    etas = _values(eta, "eta", allow_zero=False)
    lmbdas = _values(lmbda, "lmbda")
    ps = None if p_dropout is None else _values(p_dropout, "p_dropout")
    momentum = validation.fraction(momentum, "momentum", "the momentum coefficient μ")
    dtype = validation.float_dtype(dtype)
    init = initializers.get(init).name
    s = setup(
        None,
        training_data,
        mini_batch_size,
        net=net,
        sizes=None if net is not None else sizes,
        components=dict(
            cost=cost,
            activation=activation,
            output_activation=output_activation,
            regularizer=regularizer,
            dropout=dropout,
        ),
        lmbdas=lmbdas,
        p_dropouts=ps,
        gradient=gradient,
        evaluation_data=evaluation_data,
        shuffle=shuffle,
        last_batch=last_batch,
        lmbda_scale=lmbda_scale,
        dtype=dtype,
        init=init,
    )
    ps = s.p_dropouts
    n = s.n

    configs = [dict(seed=sd, eta=e, lmbda=l, p_dropout=p) for sd, e, l, p in itertools.product(seeds, etas, lmbdas, ps)]
    mesh, axis = sharding.plan(len(seeds), len(configs) // len(seeds), devices)
    memory.check_fits(
        s.net,
        f"this sweep of {len(configs):,} networks",
        networks=len(configs),
        batch=s.mini_batch_size,
        dtype=dtype,
        copies=3 if momentum else 2,
        devices=None if mesh is None else list(mesh.devices.flat),
    )
    keys = [run_keys(c["seed"]) for c in configs]
    if distributed.process_count() > 1:  # every process must train the same sweep on the same data
        distributed.agree(_fingerprint(configs, s, epochs), "the sweep (its settings or its data)")
    params = jax.vmap(lambda k: init_network(k, s.net, dtype))(jnp.stack([k[0] for k in keys]))
    # The networks of one seed visit the data in the same order: they form a group that shares
    # each step's mini-batch, so vmap turns their first layers into one wide matrix product.
    groups = len(seeds)
    shuffle_keys = jnp.stack([run_keys(sd)[1] for sd in seeds])
    hp = {
        "reg_scale": jnp.asarray([s.reg_scale(c["lmbda"]) for c in configs], dtype),
        "p_dropout": jnp.stack([s.rates(c["p_dropout"]) for c in configs]),
    }
    transform = optim.book_transformation(momentum > 0)
    etas_per_network = jnp.asarray([c["eta"] for c in configs], dtype)
    opt_state = jax.vmap(lambda p, e: optim.book_state(transform, p, e, momentum))(params, etas_per_network)
    x, y = s.x, s.y
    # The groups one device trains, and how many of them side by side (the rest in chunks).
    local_groups = groups // (mesh.size if mesh is not None and axis == 0 else 1)
    per_group = len(configs) // groups // (mesh.size if mesh is not None and axis == 1 else 1)
    net_bytes = sum(a.size * a.dtype.itemsize for a in jax.tree_util.tree_leaves(params)) // len(configs)
    chunk = _chunk(local_groups, per_group * net_bytes)
    # Gather several mini-batches at once as jaxnn.sgd does, but keep the rows gathered for all
    # groups trained side by side within GATHER_BYTES: every group has its own order.
    body = epoch_body(
        structure(s.net, weights_first=True),
        s.gradient,
        n,
        s.mini_batch_size,
        transform,
        shuffle=s.shuffle,
        last_batch=s.last_batch,
        gather_steps=GATHER_STEPS,
        gather_bytes=GATHER_BYTES // chunk,
    )
    grouped = jax.vmap(jax.vmap(body, in_axes=(0, None, None, None, 0)), in_axes=(0, 0, None, None, 0))
    grouped = _in_chunks(grouped, chunk)
    # The state stays stacked as (groups, networks per group, ...) from epoch to epoch, split over
    # the devices as the compiled epoch returns it, so the second epoch reuses the first's program.
    state = _split((params, opt_state), groups)
    hp_grouped = _split(hp, groups)
    correct, tcost, seconds = [], [], []
    diverged = np.full(len(configs), -1)
    start_epoch = 0
    if checkpoint is not None:
        config = _checkpoint_config(configs, s, init, momentum, monitor_training_cost)
        if resume and distributed.process_count() > 1:
            distributed.barrier("jaxnn.sweep resume")  # process 0 has finished writing before any process reads
        if resume and Path(checkpoint).is_file():
            p, o, done, c, tc, seconds, diverged = load_sweep_checkpoint(
                checkpoint,
                params_like=state[0],
                opt_state_like=state[1],
                config=config,
                monitor_training_cost=monitor_training_cost,
            )
            if done + 1 > epochs:
                raise JaxnnError(
                    f"{checkpoint} holds {done + 1} epochs, more than epochs={epochs}: pass epochs={done + 1} or more"
                )
            state = jax.tree_util.tree_map(jnp.asarray, (p, o))
            correct, tcost = list(c), ([] if tc is None else list(tc))
            start_epoch = done + 1
        if distributed.process_count() > 1:
            distributed.agree(
                start_epoch, f"the epoch to resume from (is {checkpoint} on a file system they all read?)"
            )
    evaluation = s.evaluation
    if mesh is not None:
        grouped = sharding.networks_over_devices(grouped, mesh, axis)
        split = sharding.state_sharding(mesh, axis)
        state = distributed.place(state, split)
        run_epoch = jax.jit(grouped, donate_argnums=0, out_shardings=split)
        if distributed.process_count() > 1:  # the data whole on every device once, not sent again each epoch
            x, y = distributed.replicate((x, y), mesh)
            evaluation = None if evaluation is None else distributed.replicate(tuple(evaluation), mesh)
    else:
        run_epoch = jax.jit(grouped, donate_argnums=0)
    per_network = jax.vmap(functools.partial(net_metrics, structure(s.net)), in_axes=(0, None, None, 0, 0))
    metrics = jax.jit(lambda p, xs, ys, r, pd: per_network(_flat(p), xs, ys, r, pd))

    def measure_all(params, data, reg_scale):
        """Each network's (cost, correct) over a whole data set, in chunks for networks of images."""
        xs, ys = data
        return in_chunks(metrics, params, xs, ys, reg_scale, hp["p_dropout"], chunk_rows(s.net, len(xs)))

    if s.evaluation is not None:  # network2 scales the penalty by the evaluated set's size
        ex = s.evaluation[0]
        eval_reg_scale = jnp.asarray([s.reg_scale(c["lmbda"], len(ex)) for c in configs], dtype)
    all_finite = jax.vmap(lambda p: jnp.all(jnp.stack([jnp.isfinite(a).all() for a in jax.tree_util.tree_leaves(p)])))
    finite = jax.jit(lambda grouped_params: all_finite(_flat(grouped_params)))  # one flag per network
    bar = progress.bar(epochs - start_epoch, f"sweep of {len(configs)}", enabled=show_progress)
    try:
        for j in range(start_epoch, epochs):
            start = time.perf_counter()
            ekeys = jax.vmap(lambda k: epoch_key(k, j))(shuffle_keys)
            state = run_epoch(state, ekeys, x, y, hp_grouped)
            jax.block_until_ready(state)
            seconds.append(time.perf_counter() - start)
            diverged[(diverged < 0) & ~distributed.fetch(finite(state[0]))] = j
            if s.evaluation is not None:
                _, c = measure_all(state[0], evaluation, eval_reg_scale)
                correct.append(distributed.fetch(c))
                bar.set_postfix_str(f"best {100 * np.max(correct[-1]) / len(ex):.2f}%")
            if monitor_training_cost:
                tc, _ = measure_all(state[0], (x, y), hp["reg_scale"])
                tcost.append(distributed.fetch(tc))
            if checkpoint is not None:
                saved = distributed.fetch(state)  # every process takes part; process 0 writes
                if distributed.is_writer():
                    save_sweep_checkpoint(
                        checkpoint,
                        params=saved[0],
                        opt_state=saved[1],
                        epoch=j,
                        correct=correct,
                        training_cost=tcost if monitor_training_cost else None,
                        seconds=seconds,
                        diverged=diverged,
                        config=config,
                    )
            bar.update()
    finally:
        bar.close()
    params = state[0]
    if not all(a.is_fully_addressable for a in jax.tree_util.tree_leaves(params)):  # split over processes
        params = jax.tree_util.tree_map(jnp.asarray, distributed.fetch(params))
    params = _flat(params)
    return SweepResult(
        configs=configs,
        params=params,
        evaluation_correct=np.stack(correct, axis=1) if correct else np.zeros((len(configs), 0), int),
        evaluation_size=0 if s.evaluation is None else len(s.evaluation[0]),
        training_cost=np.stack(tcost, axis=1) if tcost else None,
        seconds=seconds,
        diverged=diverged,
    )


__all__ = ["SweepResult", "run_keys", "sweep"]
