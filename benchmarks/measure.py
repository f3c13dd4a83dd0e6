"""One measurement in this process, printed as one line of JSON (``run_scaling.py`` runs each
in a fresh process, so imports, caches and peak memory never carry over).

    python benchmarks/measure.py KIND SCENARIO [--time-limit S] [--gap G]

KIND
    pyomo    the product path: load, prepare (tsam), Pyomo build (per formulation module),
             hand-off (standard-form compile + passModel), solve; seconds and memory per stage
    build    as pyomo without the solve; ``--pause-gc`` builds with Python's cyclic garbage
             collector paused (``pyomo.common.gc_manager.PauseGC``, as Pyomo's writers do)
    direct   load, prepare, ``direct_build.build_direct`` and ``passModel`` (no solve)
    check    direct model == Pyomo model (rows, columns, coefficients, bounds, costs), then
             both solved: LP relaxation and MILP to the gap
    contrib  Pyomo's ``pyomo.contrib.solver`` HiGHS interface: ``set_instance`` seconds
    appsi    Pyomo's ``pyomo.contrib.appsi`` HiGHS interface: ``set_instance`` seconds
    lpfile   LP file written by Pyomo (``model.write(..., format="lp")``) and read by highspy
    profile  cProfile of each formulation module's ``add_to`` and of the hand-off
    split    the steps of ``optimizer.solver.HighsModel``'s hand-off timed one by one (its
             private helpers, as of the measured commit)
    zonerows the zonal-limit rows built the product's way (a generator ``sum`` per row) and
             from arrays (``LinearExpression`` over the zone's variables fetched once per
             period), with the garbage collector on and paused; then each compiled
    variant  the direct model with the zonal limit stated another exact way (``--aggregate``,
             ``--hull``; see ``direct_build.Variant``): size, LP relaxation and MILP solve
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import re
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
for path in (str(ROOT), str(HERE)):
    if path not in sys.path:
        sys.path.insert(0, path)

KINDS = (
    "pyomo",
    "build",
    "direct",
    "check",
    "contrib",
    "appsi",
    "lpfile",
    "profile",
    "split",
    "zonerows",
    "variant",
)
TOP_ENTRIES = 8


# --------------------------------------------------------------------------- memory


def _status_mb(field: str) -> float:
    """A ``/proc/self/status`` memory field (VmRSS, VmHWM) in MB; NaN off Linux."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def _reset_peak() -> None:
    """Reset VmHWM to the current RSS (Linux ``clear_refs`` 5), so a stage's peak is its own."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


class Stages:
    """Wall and CPU seconds, RSS after, and peak RSS during each named stage. On a shared
    machine CPU seconds (all threads of this process) are the steadier figure."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu_seconds: dict[str, float] = {}
        self.rss_mb: dict[str, float] = {}
        self.peak_mb: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        _reset_peak()
        start, cpu = time.perf_counter(), time.process_time()
        yield
        self.seconds[name] = time.perf_counter() - start
        self.cpu_seconds[name] = time.process_time() - cpu
        self.rss_mb[name] = _status_mb("VmRSS")
        self.peak_mb[name] = _status_mb("VmHWM")

    def as_dict(self) -> dict[str, Any]:
        return {
            **{f"{k}_s": v for k, v in self.seconds.items()},
            "cpu_s": self.cpu_seconds,
            "rss_after_mb": self.rss_mb,
            "peak_during_mb": self.peak_mb,
        }


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------- helpers


def _load_and_prepare(scenario: str, stages: Stages) -> tuple[Any, Any]:
    from optimizer import load_scenario
    from optimizer.prepare import prepare

    with stages.stage("load"):
        s = load_scenario(scenario)
    with stages.stage("prepare"):
        data = prepare(s)
    return s, data


def _timed_modules(
    seconds: dict[str, float], wrap: Callable[[str, Callable[..., None]], Callable[..., None]]
) -> list[Any]:
    """``formulations.CONCERNS`` with each ``add_to`` wrapped (for ``build_model``)."""
    import dataclasses

    from formulations import CONCERNS

    return [dataclasses.replace(c, add_to=wrap(c.name, c.add_to)) for c in CONCERNS]


def _build_timed(data: Any) -> tuple[Any, dict[str, float]]:
    """The Pyomo model, and seconds per formulation module (``sets``: ``add_sets`` etc.)."""
    from formulations import build_model

    seconds: dict[str, float] = {}

    def wrap(name: str, add_to: Callable[..., None]) -> Callable[..., None]:
        def timed(m: Any, d: Any) -> None:
            start = time.perf_counter()
            add_to(m, d)
            seconds[name] = time.perf_counter() - start

        return timed

    start = time.perf_counter()
    model = build_model(data, _timed_modules(seconds, wrap))
    total = time.perf_counter() - start
    seconds = {"sets": total - sum(seconds.values()), **seconds}
    return model, seconds


def _options(scenario: Any, time_limit: float | None, gap: float | None) -> Any:
    from optimizer import options_for

    return options_for(scenario, time_limit_s=time_limit, mip_gap_frac=gap)


def _hours(data: Any) -> int:
    return int(data.sizes["hour"])


# --------------------------------------------------------------------------- kinds


def measure_pyomo(
    stages: Stages, scenario: str, time_limit: float | None, gap: float | None
) -> dict[str, Any]:
    from optimizer.solver import HighsModel

    s, data = _load_and_prepare(scenario, stages)
    with stages.stage("build"):
        model, by_module = _build_timed(data)
    options = _options(s, time_limit, gap)
    with stages.stage("handoff"):
        held = HighsModel(model, options)
    with stages.stage("solve"):
        result = held.solve()
    return {
        "rows": result.rows,
        "columns": result.columns,
        "nonzeros": result.nonzeros,
        "integers": result.integers,
        "hours": _hours(data),
        **stages.as_dict(),
        "build_by_module_s": by_module,
        "handoff_reported_s": result.handoff_seconds,
        "solve_reported_s": result.solve_seconds,
        "termination": result.termination,
        "objective_musd": result.objective_musd,
        "best_bound_musd": result.best_bound_musd,
        "gap": result.mip_gap_frac,
        "time_limit_s": options.time_limit_s,
        "mip_gap_target": options.mip_gap_frac,
    }


def measure_build(stages: Stages, scenario: str, pause_gc: bool) -> dict[str, Any]:
    from pyomo.common.gc_manager import PauseGC

    from optimizer.solver import HighsModel, SolveOptions

    _, data = _load_and_prepare(scenario, stages)
    with stages.stage("build"):
        if pause_gc:
            with PauseGC():
                model, by_module = _build_timed(data)
        else:
            model, by_module = _build_timed(data)
    with stages.stage("handoff"):
        held = HighsModel(model, SolveOptions())
    rows, columns, nonzeros, integers = held.size
    return {
        "rows": rows,
        "columns": columns,
        "nonzeros": nonzeros,
        "integers": integers,
        "pause_gc": pause_gc,
        **stages.as_dict(),
        "build_by_module_s": by_module,
    }


def measure_direct(stages: Stages, scenario: str) -> dict[str, Any]:
    from direct_build import build_direct, pass_to_highs

    _, data = _load_and_prepare(scenario, stages)
    with stages.stage("build"):
        lp = build_direct(data)
    with stages.stage("handoff"):
        pass_to_highs(lp)
    rows, columns = lp.shape
    return {
        "rows": rows,
        "columns": columns,
        "nonzeros": int(lp.a.nnz),
        "integers": int(lp.integer.sum()),
        "hours": _hours(data),
        **stages.as_dict(),
    }


def measure_check(
    stages: Stages, scenario: str, time_limit: float | None, gap: float | None
) -> dict[str, Any]:
    import highspy
    import numpy as np
    from direct_build import build_direct, compare_with_pyomo, pass_to_highs, solve_highs

    from formulations import build_model
    from optimizer.solver import HighsModel

    s, data = _load_and_prepare(scenario, stages)
    options = _options(s, time_limit, gap)
    out: dict[str, Any] = {"check": compare_with_pyomo(data, build_direct(data, with_keys=True))}

    def relaxation(h: highspy.Highs) -> float:
        n = h.getNumCol()
        continuous = int(highspy.HighsVarType.kContinuous)
        h.changeColsIntegrality(
            n, np.arange(n, dtype=np.int32), np.full(n, continuous, dtype=np.uint8)
        )
        h.run()
        return float(h.getInfo().objective_function_value)

    direct = pass_to_highs(build_direct(data), options.time_limit_s, options.mip_gap_frac)
    out["direct"] = solve_highs(direct)
    out["direct"]["lp_relaxation_musd"] = relaxation(direct)
    held = HighsModel(build_model(data), options)
    result = held.solve()
    out["pyomo"] = {
        "status": result.termination,
        "objective_musd": result.objective_musd,
        "best_bound_musd": result.best_bound_musd,
        "gap": result.mip_gap_frac,
        "solve_s": result.solve_seconds,
        "lp_relaxation_musd": relaxation(held.highs),
    }
    out["mip_gap_target"] = options.mip_gap_frac
    return out


def measure_split(stages: Stages, scenario: str) -> dict[str, Any]:
    """``HighsModel.__init__`` step by step: compile, bookkeeping, arrays, offsets, passModel."""
    import highspy
    import numpy as np
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    from optimizer import solver

    _, data = _load_and_prepare(scenario, stages)
    with stages.stage("build"):
        model, _ = _build_timed(data)
    with stages.stage("compile"):
        form = LinearStandardFormCompiler().write(model, mixed_form=True)
    with stages.stage("bookkeeping"):  # columns, row_of, integrality from Pyomo objects
        row_of: dict[Any, int] = {}
        for i, row in enumerate(form.rows):
            row_of.setdefault(row.constraint, i)
        integer = np.array([v.is_integer() for v in form.columns], dtype=bool)
    with stages.stage("arrays"):  # bounds from Pyomo objects, matrix, integrality list
        lp = solver._highs_lp(form, integer)
    with stages.stage("offsets"):  # per-row constant offsets (Pyomo bound look-ups)
        offsets = {
            con: float(con.upper if row.bound_type >= 0 else con.lower) - float(form.rhs[i])
            for con, i in row_of.items()
            for row in (form.rows[i],)
            if (con.upper if row.bound_type >= 0 else con.lower) is not None
        }
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    with stages.stage("pass_model"):
        h.passModel(lp)
    return {"rows": len(row_of), "offsets": len(offsets), **stages.as_dict()}


def _option_value(text: str) -> bool | int | float | str:
    if text in ("true", "false"):
        return text == "true"
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def measure_zone_rows(stages: Stages, scenario: str) -> dict[str, Any]:
    """``interconnection.within_zone_limit`` rebuilt on scratch models two ways (CPU s)."""
    import gc

    import pyomo.environ as pyo
    from pyomo.core.expr.numeric_expr import LinearExpression
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    _, data = _load_and_prepare(scenario, stages)
    with stages.stage("build"):
        model, _ = _build_timed(data)
    keys = list(model.interconnection.within_zone_limit.keys())
    it = model.phasing.it_mw
    pue = data["pue"].to_numpy()
    site_index = {str(s): i for i, s in enumerate(data["site"].to_numpy())}
    cool_index = {str(k): j for j, k in enumerate(data["cooling"].to_numpy())}
    zone_of = dict(
        zip(map(str, data["site"].to_numpy()), map(str, data["site_zone"].to_numpy()), strict=True)
    )
    limit = dict(zip(model.ZONES, data["zone_import_limit_mw"].to_numpy().tolist(), strict=True))
    pairs: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for s, k, p in model.SITE_COOLING_PERIODS:
        pairs.setdefault((zone_of[s], p), []).append((s, k))

    def as_built() -> Any:
        block = pyo.ConcreteModel()
        block.rows = pyo.ConstraintList()
        for z, p, h in keys:
            block.rows.add(
                sum(
                    it[s, k, p] * float(pue[site_index[s], cool_index[k], h])
                    for s, k in pairs[z, p]
                )
                <= limit[z]
            )
        return block

    def from_arrays() -> Any:
        block = pyo.ConcreteModel()
        block.rows = pyo.ConstraintList()
        cache: dict[tuple[str, str], tuple[list[Any], Any]] = {}
        for z, p, h in keys:
            if (z, p) not in cache:
                members = pairs[z, p]
                rows = [site_index[s] for s, _ in members]
                cols = [cool_index[k] for _, k in members]
                cache[z, p] = ([it[s, k, p] for s, k in members], pue[rows, cols])
            variables, coefs = cache[z, p]
            expr = LinearExpression(
                constant=0, linear_coefs=coefs[:, h].tolist(), linear_vars=variables
            )
            block.rows.add(expr <= limit[z])
        return block

    out: dict[str, Any] = {"rows": len(keys)}
    for name, make in (("as_built", as_built), ("from_arrays", from_arrays)):
        for paused in (False, True):
            if paused:
                gc.disable()
            start = time.process_time()
            block = make()
            out[f"{name}_{'gc_paused' if paused else 'gc_on'}_cpu_s"] = time.process_time() - start
            gc.enable()
        block.objective = pyo.Objective(expr=0)
        start = time.process_time()
        form = LinearStandardFormCompiler().write(block, mixed_form=True)
        out[f"{name}_compile_cpu_s"] = time.process_time() - start
        out[f"{name}_nonzeros"] = int(form.A.nnz)
    return {**out, **stages.as_dict()}


def measure_variant(
    stages: Stages,
    scenario: str,
    time_limit: float | None,
    gap: float | None,
    aggregate: bool,
    hull: bool,
    log_file: str | None,
    seed: int,
    highs_options: list[str],
) -> dict[str, Any]:
    """The direct model (``variant``), its LP relaxation, and its MILP (``highs_options``:
    extra HiGHS options, ``KEY=VALUE``)."""
    import highspy
    import numpy as np
    from direct_build import Variant, build_direct, pass_to_highs, solve_highs

    s, data = _load_and_prepare(scenario, stages)
    options = _options(s, time_limit, gap)
    variant = Variant(aggregate_zone_draw=aggregate, hull_hours=hull)
    settings = dict(item.split("=", 1) for item in highs_options)
    with stages.stage("build"):
        lp = build_direct(data, variant=variant)
    relaxed = pass_to_highs(lp, options.time_limit_s, options.mip_gap_frac)
    n = relaxed.getNumCol()
    continuous = int(highspy.HighsVarType.kContinuous)
    relaxed.changeColsIntegrality(
        n, np.arange(n, dtype=np.int32), np.full(n, continuous, dtype=np.uint8)
    )
    with stages.stage("lp_relaxation"):
        relaxed.run()
    lp_objective = float(relaxed.getInfo().objective_function_value)
    del relaxed
    with stages.stage("handoff"):
        highs = pass_to_highs(lp, options.time_limit_s, options.mip_gap_frac, seed)
    for key, value in settings.items():
        highs.setOptionValue(key, _option_value(value))
    if log_file:
        highs.setOptionValue("log_file", log_file)
        highs.setOptionValue("output_flag", True)
        highs.setOptionValue("log_to_console", False)
    with stages.stage("solve"):
        result = solve_highs(highs)
    info = highs.getInfo()
    rows, columns = lp.shape
    return {
        "variant": {"aggregate_zone_draw": aggregate, "hull_hours": hull},
        "seed": seed,
        "highs_options": settings,
        "rows": rows,
        "columns": columns,
        "nonzeros": int(lp.a.nnz),
        "integers": int(lp.integer.sum()),
        "hours": _hours(data),
        **stages.as_dict(),
        "lp_relaxation_musd": lp_objective,
        **{f"mip_{k}": v for k, v in result.items()},
        "mip_nodes": int(info.mip_node_count),
        "simplex_iterations": int(info.simplex_iteration_count),
        "mip_gap_target": options.mip_gap_frac,
    }


def _size_of(h: Any) -> dict[str, int]:
    lp = h.getLp()
    return {
        "rows": int(lp.num_row_),
        "columns": int(lp.num_col_),
        "nonzeros": len(lp.a_matrix_.value_),
    }


def measure_alternative(stages: Stages, kind: str, scenario: str) -> dict[str, Any]:
    """Hand-off of the same Pyomo model by one of Pyomo's other routes to HiGHS."""
    _, data = _load_and_prepare(scenario, stages)
    with stages.stage("build"):
        model, _ = _build_timed(data)
    out: dict[str, Any] = {"hours": _hours(data)}
    if kind == "contrib":
        from pyomo.contrib.solver.common.factory import SolverFactory

        solver = SolverFactory("highs")
        with stages.stage("handoff"):
            solver.set_instance(model)
        out.update(_size_of(solver._solver_model))
    elif kind == "appsi":
        from pyomo.contrib.appsi import cmodel  # noqa: F401  (compiled extension, if built)
        from pyomo.contrib.appsi.solvers.highs import Highs

        appsi = Highs()
        with stages.stage("handoff"):
            appsi.set_instance(model)
        out["appsi_cmodel_available"] = bool(appsi.use_extensions)
        out.update(_size_of(appsi._solver_model))
    elif kind == "lpfile":
        import highspy

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "model.lp"
            with stages.stage("write"):
                model.write(str(path), io_options={"symbolic_solver_labels": False})
            out["lp_file_mb"] = path.stat().st_size / 2**20
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            with stages.stage("read"):
                h.readModel(str(path))
        stages.seconds["handoff"] = stages.seconds["write"] + stages.seconds["read"]
        out.update(_size_of(h))
    out.update(stages.as_dict())
    return out


def _label(func: tuple[str, int, str]) -> str:
    file, line, name = func
    for marker in ("site-packages/", str(ROOT) + "/"):
        if marker in file:
            file = file.split(marker, 1)[1]
    name = re.sub(r" at 0x[0-9a-f]+", "", name)
    return f"{file}:{line}({name})" if line else name


def _top(
    profile: cProfile.Profile, n: int = TOP_ENTRIES, ours: bool = False
) -> list[dict[str, Any]]:
    """Top ``n`` functions by own time, or (``ours``) gridsite's functions by cumulative
    time: the constraint rules and sums that build each family."""
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    items = [
        (func, row)
        for func, row in stats.items()
        if not ours or (func[0].startswith(str(ROOT / "formulations")) and func[2] != "add_to")
    ]
    key = 3 if ours else 2  # cumtime, tottime
    items.sort(key=lambda kv: kv[1][key], reverse=True)
    return [
        {"function": _label(func), "calls": ncalls, "tottime_s": tt, "cumtime_s": ct}
        for func, (_, ncalls, tt, ct, _) in items[:n]
    ]


def measure_profile(stages: Stages, scenario: str) -> dict[str, Any]:
    """cProfile per formulation module (``add_to``) and of the hand-off; top entries by own
    time. Profiling slows Python code about 2x: compare shares, not seconds, with ``pyomo``."""
    from formulations import build_model
    from optimizer.solver import HighsModel, SolveOptions

    _, data = _load_and_prepare(scenario, stages)
    profiles: dict[str, cProfile.Profile] = {}
    seconds: dict[str, float] = {}

    def wrap(name: str, add_to: Callable[..., None]) -> Callable[..., None]:
        def profiled(m: Any, d: Any) -> None:
            profile = profiles[name] = cProfile.Profile()
            start = time.perf_counter()
            profile.enable()
            add_to(m, d)
            profile.disable()
            seconds[name] = time.perf_counter() - start

        return profiled

    with stages.stage("build"):
        model = build_model(data, _timed_modules(seconds, wrap))
    from pyomo.repn.plugins.standard_form import LinearStandardFormCompiler

    with stages.stage("compile"):
        LinearStandardFormCompiler().write(model, mixed_form=True)
    handoff = cProfile.Profile()
    with stages.stage("handoff"):
        handoff.enable()
        HighsModel(model, SolveOptions())
        handoff.disable()
    return {
        "hours": _hours(data),
        **stages.as_dict(),
        "profiled_module_s": seconds,
        "modules": {name: _top(p) for name, p in profiles.items()},
        "rules": {name: _top(p, ours=True) for name, p in profiles.items()},
        "handoff": _top(handoff, 2 * TOP_ENTRIES),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("scenario")
    parser.add_argument("--time-limit", type=float, default=None)
    parser.add_argument("--gap", type=float, default=None)
    parser.add_argument("--pause-gc", action="store_true", help="build kind: GC paused")
    parser.add_argument("--aggregate", action="store_true", help="variant kind")
    parser.add_argument("--hull", action="store_true", help="variant kind")
    parser.add_argument("--log-file", default=None, help="variant kind: HiGHS log")
    parser.add_argument("--seed", type=int, default=0, help="variant kind: HiGHS random_seed")
    parser.add_argument(
        "--highs-option", action="append", default=[], help="variant kind: KEY=VALUE"
    )
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    stages = Stages()
    with stages.stage("import"):  # pyomo, highspy, tsam, xarray, pandas, pydantic
        import formulations  # noqa: F401
        import optimizer
    if args.kind == "pyomo":
        out = measure_pyomo(stages, args.scenario, args.time_limit, args.gap)
    elif args.kind == "build":
        out = measure_build(stages, args.scenario, args.pause_gc)
    elif args.kind == "direct":
        out = measure_direct(stages, args.scenario)
    elif args.kind == "check":
        out = measure_check(stages, args.scenario, args.time_limit, args.gap)
    elif args.kind == "profile":
        out = measure_profile(stages, args.scenario)
    elif args.kind == "zonerows":
        out = measure_zone_rows(stages, args.scenario)
    elif args.kind == "split":
        out = measure_split(stages, args.scenario)
    elif args.kind == "variant":
        out = measure_variant(
            stages,
            args.scenario,
            args.time_limit,
            args.gap,
            args.aggregate,
            args.hull,
            args.log_file,
            args.seed,
            args.highs_option,
        )
    else:
        out = measure_alternative(stages, args.kind, args.scenario)
    out.update(
        code=str(Path(optimizer.__file__).parent.parent),
        kind=args.kind,
        scenario=args.scenario,
        wall_s=time.perf_counter() - start,
        peak_rss_mb=_peak_rss_mb(),
        load_avg_before=load_before,
        load_avg_after=os.getloadavg()[0],
    )
    print(json.dumps(out))


if __name__ == "__main__":
    main()
