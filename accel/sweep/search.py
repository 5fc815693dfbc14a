"""Multi-objective search for design spaces too big to grid (``search:`` in a spec).

``search: {strategy: nsga2, budget: N, seed: S, population: P}`` evaluates at most
``N`` distinct design points chosen by NSGA-II over the spec's parameters (each a
categorical choice among its listed values) and objectives.

Library: optuna's ``NSGAIISampler`` (optuna is maintained by Preferred Networks and a
large community, releases monthly, is pure Python).  Its ask/tell interface lets the
sweep keep its own executors, store and resume: each generation is asked as a batch,
evaluated like grid points (local workers or Dask), committed to the same store, and
told back.  pymoo's NSGA2 was the alternative; it drives the evaluation loop itself and
needs custom operators for mixed categorical spaces.

* Points that break a spec constraint are not evaluated (they cost nothing) and are
  told to the sampler as failed, so NSGA-II breeds away from them; points evaluated but
  not fitting the spec's device (``fit:``) are stored and told failed too; a point already in
  the store (a repeat, or a resumed run) is told its stored metrics and costs nothing.
* Resumable: the sampler is seeded and the run is replayed from the store: the same
  asks get the same answers, so a rerun continues where the last one stopped.
* Each row's ``point`` is its evaluation order (the trial number), so the report can
  draw hypervolume against evaluations (``accel.report.convergence``).
"""

from __future__ import annotations

import logging
from pathlib import Path

from accel.errors import ConfigError
from accel.sweep import routing
from accel.sweep.spec import SweepSpec
from accel.sweep.stages import (
    Callbacks,
    SweepSummary,
    evaluate_plan,
    inspect_store,
    open_store,
    plan_rows,
    resolve_workloads,
)
from accel.sweep.store import Store

MAX_ASKS_PER_EVALUATION = 50   # asks that are infeasible or repeats, per evaluation, at most
DEFAULT_POPULATION = 24        # NSGA-II population when the spec gives none


def search_space_size(spec: SweepSpec) -> int:
    """Points of the unconstrained parameter grid the search samples from."""
    n = 1
    for values in spec.parameters.values():
        n *= len(values)
    return n


def _study(spec: SweepSpec):
    try:
        import optuna
    except ImportError:  # pragma: no cover - a dependency of accel
        raise ConfigError("search: strategy nsga2 needs optuna (pip install optuna)") from None
    optuna.logging.set_verbosity(logging.WARNING)
    s = spec.search
    pop = s.population or min(DEFAULT_POPULATION, max(2, s.budget // 4))
    sampler = optuna.samplers.NSGAIISampler(population_size=pop, seed=s.seed)
    directions = ["minimize" if o.goal == "min" else "maximize" for o in spec.objectives]
    return optuna.create_study(directions=directions, sampler=sampler), pop


def _stored_results(store: Store, keys: list[str]) -> dict[str, tuple[str, dict]]:
    import json

    out = {}
    for i in range(0, len(keys), 500):
        part = keys[i:i + 500]
        q = f"SELECT key, status, metrics FROM results WHERE key IN ({','.join('?' * len(part))})"
        out.update({k: (s, json.loads(m)) for k, s, m in store.conn.execute(q, part)})
    return out


def _ask_generation(study, dists: dict, spec: SweepSpec, pop: int, cap: int
                    ) -> tuple[list, list[dict], int]:
    """A whole generation (``pop`` feasible points; a longer budget replays it): the
    trials, their points, and how many asks that took (infeasible ones told failed)."""
    import optuna

    trials, points, asks = [], [], 0
    while len(points) < pop and asks < cap:
        trial = study.ask(dists)
        asks += 1
        point = {n: trial.params[n] for n in spec.parameters}
        if not all(c.holds(point) for c in spec.constraints):
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            continue
        trials.append(trial)
        points.append(point)
    return trials, points, asks


def _limit_to_budget(plan, done: set[str], left: int) -> None:
    """Keep the first ``left`` new rows in ask order; the rest stay untold, so a longer
    budget (or a resumed run) replays exactly this prefix.  Repeats cost nothing."""
    allowed: set[str] = set()
    for keys in plan.keys_of_point:
        if keys[0] not in done and keys[0] not in allowed and len(allowed) < left:
            allowed.add(keys[0])
    plan.pending = {w: [t for t in ts if t[0] in allowed] for w, ts in plan.pending.items()}
    plan.pending = {w: ts for w, ts in plan.pending.items() if ts}
    plan.invalid = [r for r in plan.invalid if r["key"] in allowed]


def _tell(study, trials: list, keys_of_point: list[list[str]], results: dict,
          spec: SweepSpec) -> None:
    """Each evaluated trial its objective values (a failed row: failed); a trial cut by
    the budget is left untold."""
    import optuna

    for trial, keys in zip(trials, keys_of_point, strict=True):
        if keys[0] not in results:
            continue
        status, metrics = results[keys[0]]
        values = [metrics.get(o.metric) for o in spec.objectives]
        # a design that does not fit its device (fit:, accel.sweep.fit) is a failed trial:
        # NSGA-II breeds away from it and it never enters the search's front
        if status != "ok" or any(v is None for v in values) or metrics.get("feasible") == 0:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            study.tell(trial, values)


def run_search(spec: SweepSpec, db: Path, machine, executor, fresh: bool, retry_failed: bool,
               callbacks: Callbacks) -> SweepSummary:
    """Ask, evaluate, tell, a generation at a time, until ``budget`` evaluations."""
    import optuna

    study, pop = _study(spec)
    dists = {n: optuna.distributions.CategoricalDistribution(list(v))
             for n, v in spec.parameters.items()}
    done_all, done_ok, discard = inspect_store(db, fresh)
    done = done_ok if retry_failed else done_all
    resumed = frozenset(done)   # rows of an earlier run (a repeat proposal is not one)
    version = machine.model_version()
    budget = spec.search.budget
    if callbacks.total:
        callbacks.total(budget)
    quiet = Callbacks(None, callbacks.progress, callbacks.warmup)
    workloads: dict = {}
    wid_of: dict = {}
    store: Store | None = None
    computed = failed = infeasible = asks = seconds = warmup = proposed = 0
    replayed: set[str] = set()   # rows of an earlier run this one proposed again
    rate_rows = 0
    cap = budget * MAX_ASKS_PER_EVALUATION
    try:
        while computed + len(replayed) < budget and asks < cap:
            trials, points, n = _ask_generation(study, dists, spec, pop, cap - asks)
            asks += n
            if not points:
                break
            splits = [routing.split(machine, p) for p in points]
            new_w, new_ids = resolve_workloads(spec, machine, [
                s for s in splits if (spec.workloads[0], tuple(sorted(s[2].items()))) not in wid_of])
            workloads.update(new_w)
            wid_of.update(new_ids)
            plan = plan_rows(spec, machine, points, splits, wid_of, done, version,
                             first_index=proposed)
            proposed += len(points)
            replayed |= resumed & set(plan.rows_meta)
            _limit_to_budget(plan, done, budget - computed - len(replayed))
            # the first generation warms up (kernels load once) and opens the store
            stats = evaluate_plan(spec, db, fresh and store is None, machine, executor, plan,
                                  workloads, quiet, store=store, warm=store is None)
            store = store or Store(db)
            computed, failed = computed + stats["computed"], failed + stats["failed"]
            infeasible += stats["infeasible"]
            seconds, warmup = seconds + stats["seconds"], warmup + stats["warmup_seconds"]
            rate_rows += max(0, stats["computed"] - (1 if stats["warmup_seconds"] else 0))
            results = _stored_results(store, [k for ks in plan.keys_of_point for k in ks])
            done |= set(results)
            _tell(study, trials, plan.keys_of_point, results, spec)
        if store is None:   # nothing to evaluate at all: still record the spec
            store = open_store(db, fresh, spec)
        meta = store.specs().get(spec.name, {})
        store.set_meta(f"spec:{spec.name}", {**meta, "search": {
            **spec.search_meta(), "library": f"optuna {optuna.__version__} NSGAIISampler",
            "population": pop, "asks": asks, "space": search_space_size(spec),
            "evaluations": _count_rows(store, spec.name)}})
        store.refresh_view()
    finally:
        if store is not None:
            store.close()
    return SweepSummary(
        spec=spec.name, machine=spec.machine, db=str(db), points=asks,
        rows=computed + len(replayed), already_done=len(replayed), computed=computed,
        failed=failed, seconds=round(seconds, 3),
        rate=round(rate_rows / seconds, 2) if rate_rows and seconds > 0 else 0.0,
        executor=executor.kind, workers=executor.workers, warmup_seconds=round(warmup, 3),
        discarded=discard if fresh else 0, strategy=spec.search.strategy, infeasible=infeasible)


def _count_rows(store: Store, spec_name: str) -> int:
    return store.conn.execute("SELECT COUNT(*) FROM results WHERE spec = ?", (spec_name,)).fetchone()[0]
