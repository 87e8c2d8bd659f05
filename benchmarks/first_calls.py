"""What a user waits for on the first call of jaxnn's functions in a new process, and on the next ones.

    python benchmarks/first_calls.py                 # 5 fresh processes, the compilation cache off
    python benchmarks/first_calls.py --rounds 9

Each round is a fresh Python process with jaxnn's compilation cache switched off
(``JAXNN_NO_COMPILATION_CACHE=1``), so every first call compiles: drawing a [784, 30, 10]
network's weights and a conv net's, then the first call and the median of 20 more calls of
``forward``, ``predict``, ``evaluate``, ``backprop`` and ``autodiff_grad`` on 10 MNIST rows. The
table gives the median over the rounds. It uses only functions that earlier versions of jaxnn
have too, so it can be run in an older checkout with the same environment to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

ROUND = r"""
import json, statistics, time
import jax, jaxnn
d = jaxnn.load_mnist()
x, y = d.training.x[:10], d.training.y[:10]
out = {}
def first(name, f):
    t = time.perf_counter(); r = jax.block_until_ready(f()); out[name] = time.perf_counter() - t
    return r
params = first("init_params([784, 30, 10])", lambda: jaxnn.init_params(0, [784, 30, 10]))
net = jaxnn.conv_net([jaxnn.ConvPool(20, 5), jaxnn.ConvPool(40, 5), jaxnn.FullyConnected(100), jaxnn.Softmax(10)], (1, 28, 28))
first("init_network(chapter 6 two-conv net)", lambda: jaxnn.init_network(0, net))
calls = {
    "forward": lambda: jaxnn.forward(params, x),
    "predict": lambda: jaxnn.predict(params, x),
    "evaluate": lambda: jaxnn.evaluate(params, x, y),
    "backprop": lambda: jaxnn.backprop(params, x, y),
    "autodiff_grad": lambda: jaxnn.autodiff_grad(params, x, y),
}
for name, f in calls.items():
    first(name, f)
    times = []
    for _ in range(20):
        t = time.perf_counter(); jax.block_until_ready(f()); times.append(time.perf_counter() - t)
    out[name + " again"] = statistics.median(times)
print(json.dumps(out))
"""


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5, help="fresh processes (default 5)")
    a = p.parse_args(argv)
    env = dict(os.environ, JAXNN_NO_COMPILATION_CACHE="1")
    runs = []
    for _ in range(a.rounds):
        proc = subprocess.run([sys.executable, "-c", ROUND], env=env, capture_output=True, text=True, check=True)
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print(f"median of {a.rounds} fresh processes, compilation cache off\n")
    print("| call | first call | each later call |\n|---|---:|---:|")
    for name in runs[0]:
        if name.endswith(" again"):
            continue
        first = statistics.median(r[name] for r in runs)
        again = [r[name + " again"] for r in runs if name + " again" in r]
        later = f"{1e3 * statistics.median(again):.2f} ms" if again else "–"
        print(f"| {name} | {first:.3f} s | {later} |")


if __name__ == "__main__":
    main()
