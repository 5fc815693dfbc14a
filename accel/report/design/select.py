"""Which design to build: a sweep store (or its folder, or its spec) and ``--design N`` or a
point key -> one :class:`Choice` (machine, config, workload knobs, and its place on the
sweep's Pareto front, numbered exactly as ``accel report`` numbers it).

The numbering is :func:`accel.report.summary.numbered_front` (or ``best_table`` for a spec
with fewer than two objectives), the very code that writes the report's table, so
"design #3" here is row 3 of that table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from accel.errors import AccelError
from accel.report.fit_text import split as fit_split
from accel.report.summary import best_table, design_frame, numbered_front
from accel.sweep.pareto import pareto_mask


@dataclass(frozen=True)
class Choice:
    """One design to build: everything needed to rebuild it without the store."""

    machine: str
    base: str | None              # the preset (or arch file) the config was built from
    config: dict                  # the full resolved config, as the store holds it
    workload: str                 # workload spec (e.g. minilm-l6)
    knobs: dict                   # workload knobs of the point (prune, training, ...)
    source: dict = field(default_factory=dict)   # store, spec, point key, design number
    front: dict = field(default_factory=dict)    # place on the sweep's front (sheet section)
    metrics: dict = field(default_factory=dict)  # the sweep's metrics of this design


def store_path(arg: str | Path, spec: str | None = None) -> Path:
    """The store named by ``STORE_OR_SPEC``: a ``.sqlite`` file, a folder holding one
    (``results.sqlite``, or the one ``<spec>.sqlite`` / the only ``*.sqlite``), or a spec
    YAML (its default store ``reports/<name>/results.sqlite``)."""
    p = Path(arg)
    if p.is_dir():
        cands = sorted(p.glob("*.sqlite"))
        for name in ("results.sqlite", f"{spec}.sqlite" if spec else None):
            if name and (p / name).is_file():
                return p / name
        if len(cands) == 1:
            return cands[0]
        if not cands:
            raise AccelError(f"no sweep store (*.sqlite) in folder {p}")
        raise AccelError(f"folder {p} holds {len(cands)} stores "
                         f"({', '.join(c.name for c in cands[:4])}); name one, or pass --spec")
    if p.suffix.lower() in (".yaml", ".yml"):
        from accel.sweep.runner import default_db
        from accel.sweep.spec import load_spec

        db = default_db(load_spec(p))
        if not db.is_file():
            raise AccelError(f"spec {p}: its store {db} does not exist; run `accel sweep run "
                             f"{p}` first")
        return db
    if not p.exists():
        raise AccelError(f"store not found: {p}")
    return p


def _load(db: Path, spec: str | None) -> tuple[str, dict, pd.DataFrame]:
    """(spec name, spec meta, its rows) of a store, read-only and checked as the report
    checks it."""
    from accel.sweep.store import Store, check_rows, load_frame

    with Store(db, readonly=True) as st:
        check_rows(st)
        metas = st.specs()
        frame = load_frame(st)
    if frame.empty:
        raise AccelError(f"store {db} holds no results")
    names = sorted(frame["spec"].unique())
    if spec is None:
        if len(names) > 1:
            raise AccelError(f"store {db} holds {len(names)} specs ({', '.join(names[:4])}); "
                             "pass --spec NAME")
        spec = names[0]
    elif spec not in names:
        raise AccelError(f"--spec {spec!r} is not in store {db}; it holds: {', '.join(names[:6])}")
    rows = frame[frame["spec"] == spec].dropna(axis=1, how="all")
    return spec, metas.get(spec, {}), rows


def pareto_rank(values: np.ndarray, goals: list[str]) -> np.ndarray:
    """Pareto layer of every row (1 = on the front; 2 = on the front once layer 1 is
    removed, ...), by peeling :func:`pareto_mask`."""
    rank = np.zeros(len(values), dtype=np.int64)
    left = np.arange(len(values))
    layer = 1
    while left.size:
        mask = pareto_mask(values[left], goals)
        rank[left[mask]] = layer
        left = left[~mask]
        layer += 1
    return rank


def _front_place(designs: pd.DataFrame, objectives, idx) -> dict:
    """The design's objectives against the front's range, its Pareto layer and number
    (among the designs that fit; a design that does not fit has neither)."""
    f = numbered_front(designs, objectives)
    if len(f.present) < 2 or idx not in f.complete.index:
        return {"objectives": [m for m, _ in f.present], "rank": None, "number": None,
                "fits": idx in designs.index}
    vals = f.complete[f.mcols].to_numpy(float)
    ranks = pareto_rank(vals, [g for _, g in f.present])
    pos = list(f.complete.index).index(idx)
    rows = []
    for (m, g), c in zip(f.present, f.mcols, strict=True):
        col = f.front[c].to_numpy(float)
        rows.append({"metric": m, "goal": g, "value": float(designs.loc[idx, c]),
                     "front_best": float(col.min() if g == "min" else col.max()),
                     "front_worst": float(col.max() if g == "min" else col.min())})
    return {"objectives": rows, "rank": int(ranks[pos]), "layers": int(ranks.max()), "fits": True,
            "number": f.numbers.get(idx), "front_size": len(f.front),
            "designs": len(designs)}


def _by_number(designs: pd.DataFrame, objectives, n: int, db: Path) -> object:
    f = numbered_front(designs, objectives)
    if len(f.present) >= 2:
        table, numbers = f.front, f.numbers
        what = "Pareto table"
    else:
        primary = f.present[0] if f.present else ("cycles", "min")
        table, numbers = best_table(designs, primary)
        what = f"best-by-{primary[0]} table"
    if not 1 <= n <= len(table):
        raise AccelError(f"--design {n}: the report's {what} of {db} numbers designs "
                         f"1..{len(table)}")
    return next(idx for idx, k in numbers.items() if k == n)


# A point key may be named by a unique prefix of at least this many hex digits.
KEY_PREFIX_MIN = 6


def _key_hits(rows: pd.DataFrame, key: str) -> pd.DataFrame:
    """The rows whose point key starts with ``key`` (none for a prefix too short)."""
    if len(key) < KEY_PREFIX_MIN:
        return rows.iloc[:0]
    return rows[rows["key"].astype(str).str.startswith(key)]


def _by_key(designs: pd.DataFrame, rows: pd.DataFrame, key: str, db: Path) -> object:
    hits = _key_hits(rows, key)
    if hits.empty:
        raise AccelError(f"--design {key!r}: no point key (or unique prefix of >= "
                         f"{KEY_PREFIX_MIN} hex digits) in {db}")
    if hits["point"].nunique() > 1:
        raise AccelError(f"--design {key!r}: prefix matches {hits['point'].nunique()} points")
    hit = hits.iloc[0]
    if hit["status"] != "ok":
        raise AccelError(f"--design {key!r}: that point failed in the sweep "
                         f"({str(hit.get('error') or '')[:80]}); nothing to build")
    match = designs.index[designs["point"] == hit["point"]]
    return match[0]


def choose(arg: str | Path, design: str, spec: str | None = None) -> Choice:
    """The design ``design`` (a number of the report's table, or a point key) of the
    store named by ``arg``.  Point keys are hex, so about 1 in 110 starts with ten decimal
    digits: digits that start a point key (at least ``KEY_PREFIX_MIN`` of them) name that
    key, any other digits a table row (no report numbers 100,000 designs)."""
    import json

    db = store_path(arg, spec)
    spec, meta, rows = _load(db, spec)
    evaluated = design_frame(rows)
    if evaluated.empty:
        raise AccelError(f"store {db}: no design point of spec {spec} succeeded")
    # the report numbers the designs that fit the spec's device (fit:) only
    designs, _ = fit_split(evaluated, meta)
    objectives = [(o["metric"], o["goal"]) for o in meta.get("objectives", [])]
    text = str(design).strip()
    if text.isdigit() and not _key_hits(rows, text).empty:
        idx = _by_key(evaluated, rows, text, db)
    elif text.isdigit() or (text.startswith("-") and text[1:].isdigit()):
        if designs.empty:
            raise AccelError(f"--design {text}: no design of {db} fits its device, so the "
                             "report numbers none; pass a point key to build one anyway")
        idx = _by_number(designs, objectives, int(text), db)
    elif text and all(c in "0123456789abcdefABCDEF" for c in text):
        idx = _by_key(evaluated, rows, text.lower(), db)
    else:
        raise AccelError(f"--design must be a number of the report's table or a point key, "
                         f"got {text[:40]!r}")
    point = evaluated.loc[idx, "point"]
    row = rows[(rows["point"] == point) & (rows["status"] == "ok")].iloc[0]
    params = {c.split(".", 1)[1]: row[c] for c in rows.columns
              if c.startswith("param.") and not _missing(row[c])}
    from accel.sweep import routing

    m = routing.machine(str(row["machine"]))
    knobs = {k: _plain(v) for k, v in params.items() if k in m.workload_knobs}
    metrics = {c.split(".", 1)[1]: _plain(evaluated.loc[idx, c]) for c in evaluated.columns
               if c.startswith("metric.") and not _missing(evaluated.loc[idx, c])}
    place = _front_place(designs, objectives, idx)
    return Choice(machine=m.name, base=meta.get("base"), config=json.loads(row["config"]),
                  workload=str(row["workload"]), knobs=knobs,
                  source={"store": str(db), "spec": spec, "point": int(point),
                          "point_key": str(row["key"]), "design": place.get("number"),
                          "device": meta.get("device")},
                  front=place, metrics=metrics)


def _missing(v) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v))


def _plain(v):
    """NumPy scalars from the frame -> Python values (YAML and JSON need them)."""
    return v.item() if hasattr(v, "item") else v
