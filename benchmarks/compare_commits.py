"""The book's MLP epoch and the chapter 6 conv-net epoch, this working tree against an earlier commit, in one run.

Each round times both trees in fresh processes, one after the other (alternating which goes
first), so that both see the same machine load; the table reports each tree's median over the
rounds of its median epoch (the first epoch, which compiles, is left out)::

    python benchmarks/compare_commits.py 1e93e14            # the commit before the one-trainer change
    python benchmarks/compare_commits.py HEAD~3 --rounds 5 --epochs 6

The earlier commit is checked out into a temporary git worktree, removed afterwards. Both trees
run with this environment's packages.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# One timing run, written to work on either tree: before the one-trainer change conv nets trained
# with jaxnn.train_convnet; after it, with jaxnn.sgd(net=...) and network3's conventions.
TIMER = r"""
import json, statistics, sys, warnings
import jax, jaxnn
warnings.simplefilter("ignore")
epochs, conv_images = int(sys.argv[1]), int(sys.argv[2])
d = jaxnn.load_mnist()
params = jaxnn.init_params(jax.random.key(0), [784, 30, 10], "large")
_, h = jaxnn.sgd(params, d.training, epochs, 10, 3.0, key=1)
mlp = statistics.median(h.seconds[1:])
train = (d.training.x[:conv_images], d.training.y[:conv_images])
layers = [jaxnn.ConvPool(20, 5), jaxnn.FullyConnected(100), jaxnn.Softmax(10)]
net = jaxnn.conv_net(layers, (1, 28, 28))
params = jaxnn.conv_init(jax.random.key(0), net)
if hasattr(jaxnn, "NETWORK3"):
    _, h = jaxnn.sgd(params, train, epochs, 10, 0.1, key=1, net=net, **jaxnn.NETWORK3)
else:
    _, h = jaxnn.train_convnet(net, params, train, epochs, 10, 0.1, key=1)
conv = statistics.median(h.seconds[1:])
print(json.dumps({"mlp": mlp, "conv": conv}))
"""


def _time(tree: Path, epochs: int, conv_images: int) -> dict:
    env = dict(os.environ, PYTHONPATH=str(tree))
    out = subprocess.run(
        [sys.executable, "-c", TIMER, str(epochs), str(conv_images)],
        env=env,
        cwd=tempfile.gettempdir(),
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("rev", help="the earlier commit to compare with")
    p.add_argument("--rounds", type=int, default=3, help="fresh-process pairs (default 3)")
    p.add_argument("--epochs", type=int, default=4, help="epochs per timing, the first not counted (default 4)")
    p.add_argument(
        "--conv-images", type=int, default=10_000, help="training images of the conv-net epoch (default 10000)"
    )
    a = p.parse_args(argv)
    if a.epochs < 2 or a.rounds < 1:
        p.error("--epochs must be at least 2 and --rounds at least 1")
    old = Path(tempfile.mkdtemp(prefix="jaxnn-compare-")) / "tree"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "-q", "--detach", str(old), a.rev], check=True)
    try:
        trees = {"this tree": ROOT, a.rev: old}
        times: dict = {name: {"mlp": [], "conv": []} for name in trees}
        for r in range(a.rounds):
            order = list(trees) if r % 2 == 0 else list(trees)[::-1]
            for name in order:
                for k, v in _time(trees[name], a.epochs, a.conv_images).items():
                    times[name][k].append(v)
        print(f"| tree | book MLP [784,30,10], m 10: s/epoch | conv net ({a.conv_images:,} images), m 10: s/epoch |")
        print("| --- | --- | --- |")
        med = {name: {k: statistics.median(v) for k, v in t.items()} for name, t in times.items()}
        for name, m in med.items():
            print(f"| {name} | {m['mlp']:.3f} | {m['conv']:.2f} |")
        new, before = med["this tree"], med[a.rev]
        print(
            f"\nthis tree / {a.rev}: MLP {new['mlp'] / before['mlp']:.3f}, conv {new['conv'] / before['conv']:.3f} "
            f"(median of {a.rounds} rounds; below 1 is faster)"
        )
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(old)], check=False)
        shutil.rmtree(old.parent, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
