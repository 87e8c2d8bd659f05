"""Starts N processes of one jaxnn command on this machine, joined by JAX's distributed runtime.

Each process gets the environment that :func:`jaxnn.distributed.init` reads (JAXNN_COORDINATOR
on a free port of 127.0.0.1, JAXNN_NUM_PROCESSES, JAXNN_PROCESS_ID) and, with
``--cpu-devices K``, K forced CPU devices. Process 0's output is shown as it is; the others' lines
are prefixed with ``[i]``. If one process fails, the others are stopped, and the launcher exits
with the first failure's status::

    python examples/launch_local.py -n 2 --cpu-devices 2 -- \\
        jaxnn sweep --distributed --seeds 0,1,2,3 --eta 0.5,3.0 --epochs 2 --train-size 10000 --no-progress

On a host with several GPUs, give each process its GPUs with ``--gpus-per-process G``
(CUDA_VISIBLE_DEVICES); on a cluster use its launcher instead (see docs/distributed.md).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import threading
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _relay(stream, prefix: str) -> None:
    for line in stream:
        sys.stdout.write(prefix + line)
        sys.stdout.flush()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-n", "--num-processes", type=int, default=2)
    p.add_argument("--cpu-devices", type=int, default=None, metavar="K", help="force K CPU devices per process")
    p.add_argument("--gpus-per-process", type=int, default=None, metavar="G", help="CUDA_VISIBLE_DEVICES per process")
    p.add_argument("--port", type=int, default=None, help="the coordinator's port (default: a free one)")
    p.add_argument("command", nargs=argparse.REMAINDER, help="the command after --, e.g. jaxnn sweep --distributed ...")
    args = p.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        p.error("give the command to run after --, e.g. -- jaxnn sweep --distributed --seeds 0,1")
    if args.num_processes < 1:
        p.error("--num-processes must be at least 1")
    if command[0] == "jaxnn" and shutil.which("jaxnn") is None:
        command = [sys.executable, "-m", "jaxnn.cli", *command[1:]]
    address = f"127.0.0.1:{args.port or free_port()}"
    procs = []
    for i in range(args.num_processes):
        env = dict(
            os.environ,
            JAXNN_COORDINATOR=address,
            JAXNN_NUM_PROCESSES=str(args.num_processes),
            JAXNN_PROCESS_ID=str(i),
        )
        if args.cpu_devices:
            env["JAX_PLATFORMS"] = "cpu"
            env["JAXNN_LOCAL_DEVICE_COUNT"] = str(args.cpu_devices)
        if args.gpus_per_process:
            g = args.gpus_per_process
            env["CUDA_VISIBLE_DEVICES"] = ",".join(str(i * g + k) for k in range(g))
        out = None if i == 0 else subprocess.PIPE
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT if i else None, text=True)
        if i:
            threading.Thread(target=_relay, args=(proc.stdout, f"[{i}] "), daemon=True).start()
        procs.append(proc)
    status = 0
    try:
        while None in [proc.poll() for proc in procs]:  # poll every process, not just up to a running one
            failed = [proc.returncode for proc in procs if proc.returncode not in (None, 0)]
            if failed:
                status = failed[0]
                for proc in procs:
                    if proc.poll() is None:
                        proc.terminate()
            time.sleep(0.2)
    except KeyboardInterrupt:
        for proc in procs:
            proc.terminate()
        status = 130
    for proc in procs:
        proc.wait()
    return status or next((proc.returncode for proc in procs if proc.returncode), 0)


if __name__ == "__main__":
    sys.exit(main())
