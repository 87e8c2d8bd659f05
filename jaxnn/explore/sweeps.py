"""View 4: a sweep's accuracies as an η × λ grid, from the JSON of a `jaxnn.SweepResult`."""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional

import numpy as np

from jaxnn.errors import JaxnnError

MAX_CONFIGS = 10_000


def sweep_json(result) -> Dict[str, Any]:
    """The JSON that view 4 reads, from a [`SweepResult`][jaxnn.sweep.SweepResult]: what
    ``jaxnn sweep --json`` writes (its ``configs``, ``evaluation_correct`` and ``evaluation_size``
    are what the heat map uses)."""
    return result.to_dict()


def _num(v, what) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise JaxnnError(f"{what} must be a finite number, got {v!r}")
    return float(v)


def heat_map(body: Any) -> Dict[str, Any]:
    """The best evaluation accuracy of each (η, λ), the mean over seeds, one grid per dropout rate.

    ``body`` holds ``configs`` (dicts with ``eta``, ``lmbda``, optional ``p_dropout`` and ``seed``)
    and either ``evaluation_correct`` with ``evaluation_size`` or one ``best_accuracy`` per config.
    """
    if not isinstance(body, dict) or not isinstance(body.get("configs"), list) or not body["configs"]:
        raise JaxnnError("a sweep file is a JSON object with a non-empty 'configs' list (see docs/explore.md)")
    configs = body["configs"]
    if len(configs) > MAX_CONFIGS:
        raise JaxnnError(f"a sweep file may hold at most {MAX_CONFIGS} configs, got {len(configs)}")
    if "evaluation_correct" in body and "evaluation_size" in body:
        size = body["evaluation_size"]
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise JaxnnError(f"'evaluation_size' must be a positive integer, got {size!r}")
        rows = body["evaluation_correct"]
        if not isinstance(rows, list) or len(rows) != len(configs):
            raise JaxnnError("'evaluation_correct' must hold one list of per-epoch counts per config")
        best = []
        for row in rows:
            if not isinstance(row, list) or not row:
                raise JaxnnError("'evaluation_correct' must hold one non-empty list of per-epoch counts per config")
            best.append(max(_num(v, "evaluation_correct") for v in row) / size)
    elif "best_accuracy" in body:
        acc = body["best_accuracy"]
        if not isinstance(acc, list) or len(acc) != len(configs):
            raise JaxnnError("'best_accuracy' must be a list with one number per config")
        best = [_num(a, "best_accuracy") for a in acc]
    else:
        raise JaxnnError("a sweep file needs 'evaluation_correct' and 'evaluation_size', or 'best_accuracy'")
    cells: Dict[tuple, List[float]] = {}
    for c, a in zip(configs, best):
        if not isinstance(c, dict) or "eta" not in c or "lmbda" not in c:
            raise JaxnnError("each config must be an object with 'eta' and 'lmbda'")
        p: Optional[float] = None if c.get("p_dropout") is None else _num(c["p_dropout"], "p_dropout")
        if not 0 <= a <= 1:
            raise JaxnnError(f"accuracies must be fractions in [0, 1], got {a!r}")
        cells.setdefault((_num(c["eta"], "eta"), _num(c["lmbda"], "lmbda"), p), []).append(a)
    etas = sorted({k[0] for k in cells})
    lmbdas = sorted({k[1] for k in cells})
    ps = sorted({k[2] for k in cells}, key=lambda v: -1.0 if v is None else v)
    grids = []
    for p in ps:
        grid = [[_mean(cells.get((e, lm, p))) for e in etas] for lm in lmbdas]
        grids.append(
            {
                "p_dropout": p,
                "accuracy": grid,
                "seeds": [[len(cells.get((e, lm, p), [])) for e in etas] for lm in lmbdas],
            }
        )
    return {"etas": etas, "lmbdas": lmbdas, "grids": grids}


def _mean(values) -> Optional[float]:
    return None if not values else float(np.mean(values))
