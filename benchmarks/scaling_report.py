"""The tables of ``benchmarks/RESULTS.md`` from ``run_scaling.py``'s raw results.

``report(raw, out)`` writes the report; a section of an existing report that starts with
``## Analysis`` (written by hand) is kept at its end.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ANALYSIS = "## Analysis"

Run = dict[str, Any]


def _ok(runs: Sequence[Run]) -> list[Run]:
    return [r for r in runs if "error" not in r]


def _median(runs: Sequence[Run], get: Callable[[Run], float | None]) -> float:
    values = [v for r in _ok(runs) if (v := get(r)) is not None]
    return statistics.median(values) if values else float("nan")


def _spread(runs: Sequence[Run], get: Callable[[Run], float]) -> str:
    values = [get(r) for r in _ok(runs)]
    if len(values) < 2:
        return ""
    return f" ({min(values):.2f}–{max(values):.2f})"


def _f(x: float, digits: int = 2) -> str:
    return "–" if x != x else f"{x:,.{digits}f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def _pre_solve(r: Run) -> float:
    return float(r["load_s"] + r["prepare_s"] + r["build_s"] + r["handoff_s"])


def _total(r: Run) -> float:
    return _pre_solve(r) + float(r["solve_s"])


def _total_cpu(r: Run) -> float:
    return float(sum(r["cpu_s"][k] for k in ("load", "prepare", "build", "handoff", "solve")))


def _share(r: Run) -> float:
    return float(r["build_s"] + r["handoff_s"]) / _total(r)


def _size_rows(cases: dict[str, Any]) -> list[list[str]]:
    rows = []
    for label, c in cases.items():
        runs = _ok(c.get("pyomo", [])) or _ok(c.get("direct", []))
        if not runs:
            continue
        r = runs[0]
        spec = c.get("spec") or {}
        rows.append(
            [
                label,
                f"{c['sites']:,}",
                str(spec.get("periods") or 9),
                str(spec.get("cooling") or "3 (liquid)"),
                f"{r['hours']:,}",
                f"{r['rows']:,}",
                f"{r['columns']:,}",
                f"{r['nonzeros']:,}",
                f"{r['integers']:,}",
            ]
        )
    return rows


def _time_rows(cases: dict[str, Any]) -> list[list[str]]:
    rows = []
    for label, c in cases.items():
        runs = _ok(c.get("pyomo", []))
        if not runs:
            continue

        def med(key: str, rs: list[Run] = runs) -> float:
            return _median(rs, lambda x: x[key])

        rows.append(
            [
                label,
                str(len(runs)),
                _f(med("import_s")),
                _f(med("load_s")),
                _f(med("prepare_s")),
                _f(med("build_s")) + _spread(runs, lambda r: r["build_s"]),
                _f(med("handoff_s")) + _spread(runs, lambda r: r["handoff_s"]),
                _f(med("solve_s")) + _spread(runs, lambda r: r["solve_s"]),
                _f(_median(runs, lambda r: r["cpu_s"]["solve"])),
                _f(_median(runs, _total)),
                _f(_median(runs, _total_cpu)),
                f"{100 * _median(runs, _share):.0f} %",
                ", ".join("–" if r["gap"] is None else f"{100 * r['gap']:.2f} %" for r in runs),
                ", ".join(str(r["termination"]) for r in runs),
                _f(med("peak_rss_mb"), 0),
            ]
        )
    return rows


def _memory_rows(cases: dict[str, Any]) -> list[list[str]]:
    rows = []
    for label, c in cases.items():
        runs = _ok(c.get("pyomo", []))
        if not runs:
            continue

        def after(stage: str, rs: list[Run] = runs) -> str:
            return _f(_median(rs, lambda r: r["rss_after_mb"][stage]), 0)

        def peak(stage: str, rs: list[Run] = runs) -> str:
            return _f(_median(rs, lambda r: r["peak_during_mb"][stage]), 0)

        model_mb = _median(
            runs, lambda r: r["rss_after_mb"]["build"] - r["rss_after_mb"]["prepare"]
        )
        rows.append(
            [
                label,
                after("import"),
                peak("prepare"),
                after("prepare"),
                after("build"),
                _f(model_mb, 0),
                peak("handoff"),
                peak("solve"),
                _f(_median(runs, lambda r: r["peak_rss_mb"]), 0),
            ]
        )
    return rows


def _direct_rows(cases: dict[str, Any]) -> list[list[str]]:
    rows = []
    for label, c in cases.items():
        runs, direct = _ok(c.get("pyomo", [])), _ok(c.get("direct", []))
        if not runs or not direct:
            continue
        pb = _median(runs, lambda r: r["build_s"])
        ph = _median(runs, lambda r: r["handoff_s"])
        db = _median(direct, lambda r: r["build_s"])
        dh = _median(direct, lambda r: r["handoff_s"])
        rows.append(
            [
                label,
                _f(pb),
                _f(ph),
                _f(pb + ph),
                _f(db, 3),
                _f(dh, 3),
                _f(db + dh, 3),
                f"{(pb + ph) / (db + dh):,.0f}x",
                _f(_median(direct, lambda r: r["peak_rss_mb"]), 0),
            ]
        )
    return rows


def _check_rows(cases: dict[str, Any]) -> list[list[str]]:
    rows = []
    for label, c in cases.items():
        check = c.get("check")
        if not check or "error" in check:
            continue
        k, p, d = check["check"], check["pyomo"], check["direct"]
        same = all(a == b for a, b in (k["rows"], k["columns"], k["nonzeros"]))
        identical = (
            same
            and k["max_abs_coef_diff"] < 1e-12
            and k["row_bounds_equal"]
            and k["col_bounds_equal"]
            and k["integrality_equal"]
        )

        def mip(x: dict[str, Any]) -> str:
            gap = "–" if x["gap"] is None else f"{100 * x['gap']:.3f} %"
            return f"{_f(x['objective_musd'], 1)} (bound {_f(x['best_bound_musd'], 1)}, {gap})"

        rows.append(
            [
                label,
                f"{k['rows'][0]:,} / {k['columns'][0]:,} / {k['nonzeros'][0]:,}",
                "yes" if identical else "NO",
                f"{k['max_rel_cost_diff']:.1e}",
                f"{p['lp_relaxation_musd']:,.4f}",
                f"{d['lp_relaxation_musd']:,.4f}",
                mip(p),
                mip(d),
                f"{100 * check['mip_gap_target']:g} %",
            ]
        )
    return rows


def _alternative_rows(cases: dict[str, Any]) -> list[list[str]]:
    rows = []
    for label, c in cases.items():
        if "contrib" not in c:
            continue
        runs = _ok(c.get("pyomo", []))
        ours = _median(runs, lambda r: r["handoff_s"])
        ours_mb = _median(runs, lambda r: r["peak_during_mb"]["handoff"])
        direct = _ok(c.get("direct", []))
        cells = [label, f"{_f(ours)} s, {_f(ours_mb, 0)} MB"]
        for kind in ("contrib", "appsi"):
            r = c[kind]
            cells.append(
                "failed"
                if "error" in r
                else f"{_f(r['handoff_s'])} s, {_f(r['peak_during_mb']['handoff'], 0)} MB"
            )
        lp = c["lpfile"]
        cells.append(
            "failed"
            if "error" in lp
            else (
                f"{_f(lp['write_s'])} + {_f(lp['read_s'])} s, "
                f"{_f(lp['lp_file_mb'], 0)} MB file, "
                f"{_f(max(lp['peak_during_mb']['write'], lp['peak_during_mb']['read']), 0)} MB"
            )
        )
        cells.append(f"{_f(_median(direct, lambda r: r['handoff_s']), 3)} s")
        rows.append(cells)
    return rows


def _variant_rows(cases: dict[str, Any]) -> list[list[str]]:
    rows = []
    for label, c in cases.items():
        for name, runs in c.get("variants", {}).items():
            runs = _ok([runs] if isinstance(runs, dict) else runs)
            if not runs:
                continue
            r = runs[0]
            solves = ", ".join(f"{x['cpu_s']['solve']:.0f}" for x in runs)
            gaps = ", ".join(
                "–" if x["mip_gap"] is None else f"{100 * x['mip_gap']:.2f}" for x in runs
            )
            rows.append(
                [
                    label,
                    name,
                    f"{r['rows']:,}",
                    f"{r['nonzeros']:,}",
                    _f(_median(runs, lambda x: x["build_s"])),
                    _f(_median(runs, lambda x: x["cpu_s"]["lp_relaxation"])),
                    f"{r['lp_relaxation_musd']:,.3f}",
                    f"**{_f(_median(runs, lambda x: x['cpu_s']['solve']), 1)}** ({solves})",
                    _f(_median(runs, lambda x: x["mip_objective_musd"]), 1),
                    gaps,
                    ", ".join(str(x["mip_nodes"]) for x in runs),
                    _f(_median(runs, lambda x: x["peak_rss_mb"]), 0),
                ]
            )
    return rows


def _split_rows(cases: dict[str, Any]) -> list[list[str]]:
    rows = []
    for label, c in cases.items():
        r = c.get("split")
        if not r or "error" in r:
            continue
        steps = ("compile", "bookkeeping", "arrays", "offsets", "pass_model")
        cpu = r["cpu_s"]
        total = sum(cpu[k] for k in steps)
        rows.append(
            [label, *(f"{_f(cpu[k])} ({100 * cpu[k] / total:.0f} %)" for k in steps), _f(total)]
        )
    return rows


def _zone_row_rows(cases: dict[str, Any]) -> list[list[str]]:
    rows = []
    for label, c in cases.items():
        r = c.get("zonerows")
        if not r or "error" in r:
            continue
        for name, how in (("as_built", "generator `sum` per row"), ("from_arrays", "arrays")):
            rows.append(
                [
                    label,
                    how,
                    f"{r['rows']:,}",
                    f"{r[name + '_nonzeros']:,}",
                    _f(r[f"{name}_gc_on_cpu_s"]),
                    _f(r[f"{name}_gc_paused_cpu_s"]),
                    _f(r[f"{name}_compile_cpu_s"]),
                ]
            )
    return rows


def _module_rows(cases: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header: list[str] = []
    rows = []
    for label, c in cases.items():
        for key, name in (("build", "GC on"), ("build_pause_gc", "GC paused")):
            r = c.get(key)
            if not r or "error" in r:
                continue
            modules = r["build_by_module_s"]
            header = header or list(modules)
            rows.append(
                [
                    f"{label}, {name}",
                    *(_f(modules[m]) for m in header),
                    _f(r["build_s"]),
                    _f(r["handoff_s"]),
                ]
            )
    return ["case", *header, "build", "hand-off"], rows


def _profile_lines(cases: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    for label, c in cases.items():
        p = c.get("profile")
        if not p or "error" in p:
            continue
        lines += [
            "",
            f"### Profile, {label}",
            "",
            f"Under cProfile: build {_f(p['build_s'])} s, standard-form compile alone "
            f"{_f(p['compile_s'])} s, hand-off (compile + arrays + passModel) "
            f"{_f(p['handoff_s'])} s.",
            "",
        ]
        rows = []
        for module, seconds in p["profiled_module_s"].items():
            rules = p["rules"].get(module, [])[:3]
            tops = p["modules"].get(module, [])[:3]
            rows.append(
                [
                    module,
                    _f(seconds),
                    "<br>".join(
                        f"`{e['function']}` {_f(e['cumtime_s'])} s ({e['calls']:,} calls)"
                        for e in rules
                    ),
                    "<br>".join(
                        f"`{e['function']}` {_f(e['tottime_s'])} s ({e['calls']:,})" for e in tops
                    ),
                ]
            )
        lines += _table(
            ["module", "s (profiled)", "gridsite code, cumulative", "top own time"], rows
        )
        lines += ["", "Hand-off, top own time:", ""]
        lines += _table(
            ["function", "calls", "own s", "cumulative s"],
            [
                [f"`{e['function']}`", f"{e['calls']:,}", _f(e["tottime_s"]), _f(e["cumtime_s"])]
                for e in p["handoff"][:10]
            ],
        )
    return lines


def _growth_lines(cases: dict[str, Any]) -> list[str]:
    small, large = cases.get("200 sites"), cases.get("1000 sites")
    if not small or not large:
        return []
    s, big = _ok(small.get("pyomo", [])), _ok(large.get("pyomo", []))
    if not s or not big:
        return []

    def m(runs: list[Run], get: Callable[[Run], float]) -> float:
        return _median(runs, get)

    def model_mb(r: Run) -> float:
        return float(r["rss_after_mb"]["build"] - r["rss_after_mb"]["prepare"])

    def handoff_mb(r: Run) -> float:
        return float(r["peak_during_mb"]["handoff"] - r["rss_after_mb"]["build"])

    quantities: list[tuple[str, Callable[[Run], float], int]] = [
        ("rows", lambda r: r["rows"], 0),
        ("nonzeros", lambda r: r["nonzeros"], 0),
        ("model build s", lambda r: r["build_s"], 2),
        ("hand-off s", lambda r: r["handoff_s"], 2),
        ("solve s", lambda r: r["solve_s"], 2),
        ("Pyomo model MB (RSS after build - after prepare)", model_mb, 0),
        ("hand-off extra peak MB", handoff_mb, 0),
        ("peak RSS MB", lambda r: r["peak_rss_mb"], 0),
    ]
    rows = []
    for name, get, digits in quantities:
        a, b = m(s, get), m(big, get)
        rows.append([name, _f(a, digits), _f(b, digits), f"{b / a:.2f}x" if a else "–"])
    nnz_s, nnz_b = m(s, lambda r: r["nonzeros"]), m(big, lambda r: r["nonzeros"])
    per = [
        [
            "build µs per nonzero",
            _f(1e6 * m(s, lambda r: r["build_s"]) / nnz_s),
            _f(1e6 * m(big, lambda r: r["build_s"]) / nnz_b),
            "",
        ],
        [
            "hand-off µs per nonzero",
            _f(1e6 * m(s, lambda r: r["handoff_s"]) / nnz_s),
            _f(1e6 * m(big, lambda r: r["handoff_s"]) / nnz_b),
            "",
        ],
        [
            "model bytes per nonzero",
            _f(2**20 * m(s, model_mb) / nnz_s, 0),
            _f(2**20 * m(big, model_mb) / nnz_b, 0),
            "",
        ],
    ]
    return [
        "",
        "## Growth from 200 to 1,000 sites",
        "",
        *_table(["quantity", "200 sites", "1,000 sites", "ratio"], rows + per),
    ]


def _target_rows(cases: dict[str, Any]) -> list[list[str]]:
    rows = []
    default, large = cases.get("default"), cases.get("1000 sites")
    if default and _ok(default.get("pyomo", [])):
        runs = _ok(default["pyomo"])
        total = _median(runs, _total)
        share = _median(runs, _share)
        cpu = _median(runs, _total_cpu)
        rows.append(
            ["default: load → solved ≤ 30 s", f"{total:.1f} s ({cpu:.1f} s CPU)", _yes(total <= 30)]
        )
        rows.append(
            ["default: build + hand-off ≤ 15 %", f"{100 * share:.0f} %", _yes(share <= 0.15)]
        )
    if large and _ok(large.get("pyomo", [])):
        runs = _ok(large["pyomo"])
        total = _median(runs, _total)
        gap = _median(runs, lambda r: r["gap"])
        share = _median(runs, _share)
        peak = _median(runs, lambda r: r["peak_rss_mb"])
        cpu = _median(runs, _total_cpu)
        reached = gap <= 0.01 and total <= 300
        rows.append(
            [
                "1,000 sites: plan to 1 % gap ≤ 5 min",
                f"{total:.0f} s ({cpu:.0f} s CPU), gap {100 * gap:.2f} %",
                _yes(reached) + ("" if reached or cpu > 300 else " (met in CPU time)"),
            ]
        )
        rows.append(
            ["1,000 sites: peak memory ≤ 4 GB", f"{peak / 1024:.2f} GB", _yes(peak <= 4096)]
        )
        rows.append(
            ["1,000 sites: build + hand-off ≤ 25 %", f"{100 * share:.0f} %", _yes(share <= 0.25)]
        )
    return rows


def _yes(ok: bool) -> str:
    return "met" if ok else "**not met**"


def report(raw: dict[str, Any], out: Path) -> None:
    machine, cases = raw["machine"], raw["cases"]
    days = next((c["spec"]["typical_days"] for c in cases.values() if "spec" in c), "?")
    kept = ""
    if out.exists():
        text = out.read_text()
        if ANALYSIS in text:
            kept = text[text.index(ANALYSIS) :]
    lines = [
        "# Scaling results",
        "",
        "Written by `python benchmarks/run_scaling.py` (raw numbers in `benchmarks/results.json`).",
        "",
        f"- Date: {machine['date']}; commit `{machine['commit'][:10]}` (a `git archive` "
        "snapshot, so no uncommitted work is measured)",
        f"- Machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['memory']}; shared, so "
        "times are noisy (the load average before and after each run is in results.json)",
        f"- Python {machine['python']}, Pyomo {machine['pyomo']}, highspy {machine['highspy']} "
        f"(HiGHS {machine['highs']}), numpy {machine['numpy']}, scipy {machine['scipy']}, "
        f"tsam {machine['tsam']}, xarray {machine['xarray']}",
        f"- HiGHS: 1 thread, relative gap 1 %, time limit {raw['time_limit_s']:g} s (the "
        "default scenario's own 120 s limit is overridden too)",
        "- Synthetic instances: `benchmarks/generate.py --periods 10 --cooling 4 "
        f"--typical-days {days} "
        "--seed 0`; the default is `data/default` as it is (9 periods, 3 liquid cooling "
        "technologies, 12 typical days)",
        "",
        "## Model size",
        "",
        *_table(
            [
                "case",
                "sites",
                "periods",
                "cooling",
                "hours",
                "rows",
                "columns",
                "nonzeros",
                "integers",
            ],
            _size_rows(cases),
        ),
        "",
        "## Times (median over runs; range in brackets)",
        "",
        "Seconds. *total* = load + prepare + build + hand-off + solve (Python imports, shown "
        "apart, excluded); *share* = (build + hand-off) / total; *build* is the Pyomo model "
        "(`formulations.build_model`), *hand-off* is `HighsModel` (standard-form compile, "
        "arrays, `passModel`). *CPU*: process CPU seconds, the steadier figure on a shared "
        "machine (HiGHS runs on one thread).",
        "",
        *_table(
            [
                "case",
                "runs",
                "import",
                "load",
                "prepare (tsam)",
                "build",
                "hand-off",
                "solve",
                "solve CPU",
                "total",
                "total CPU",
                "share",
                "gap",
                "termination",
                "peak RSS MB",
            ],
            _time_rows(cases),
        ),
        "",
        "## Targets",
        "",
        *_table(["target", "measured", ""], _target_rows(cases)),
        "",
        "## Memory by stage (MB, median)",
        "",
        "RSS after a stage, and peak RSS during it (VmHWM reset before each stage).",
        "",
        *_table(
            [
                "case",
                "after import",
                "peak in prepare",
                "after prepare",
                "after build",
                "Pyomo model",
                "peak in hand-off",
                "peak in solve",
                "peak RSS",
            ],
            _memory_rows(cases),
        ),
        "",
        "## Direct array build (`benchmarks/direct_build.py`): the floor for build + hand-off",
        "",
        *_table(
            [
                "case",
                "Pyomo build s",
                "Pyomo hand-off s",
                "Pyomo total s",
                "direct build s",
                "direct passModel s",
                "direct total s",
                "Pyomo / direct",
                "direct peak RSS MB",
            ],
            _direct_rows(cases),
        ),
        "",
        "Same model? Every row and column matched by component name and index "
        "(coefficients, row and column bounds, costs, integrality compared), then both solved.",
        "",
        *_table(
            [
                "case",
                "rows / columns / nonzeros",
                "identical",
                "max rel. cost diff",
                "LP relaxation, Pyomo",
                "LP relaxation, direct",
                "MILP, Pyomo path",
                "MILP, direct",
                "gap asked",
            ],
            _check_rows(cases),
        ),
        "",
        "## Pyomo's other hand-offs (seconds, peak RSS during the hand-off)",
        "",
        *_table(
            [
                "case",
                "product: compile + passModel",
                "`pyomo.contrib.solver` highs `set_instance`",
                "appsi highs `set_instance`",
                "LP file write + highspy read",
                "direct passModel",
            ],
            _alternative_rows(cases),
        ),
        "",
        "Inside the product's hand-off (`measure.py split`: `HighsModel.__init__` step by "
        "step, CPU seconds): the standard-form compile (Pyomo's expression walk), reading "
        "bookkeeping and bounds from Pyomo objects, HiGHS arrays, the per-row offsets kept for "
        "`set_upper`, and `passModel`.",
        "",
        *_table(
            ["case", "compile", "bookkeeping", "arrays", "offsets", "passModel", "total"],
            _split_rows(cases),
        ),
        "",
        "## Formulation experiments: the zonal limit stated another exact way",
        "",
        "`direct_build.Variant` (benchmark code, not the product): *aggregated* sums the "
        "campuses of a zone sharing a weather station and cooling technology into one column "
        "per period (PUE depends on nothing else), *hull hours* keeps a zone's hours whose "
        "PUE vector is not below a convex combination of other hours (one small LP each, "
        "included in *build*). Same feasible set, so the LP relaxation must not move. One run "
        "per HiGHS random seed; CPU seconds; MILP to the 1 % gap; median, then each seed.",
        "",
        *_table(
            [
                "case",
                "zonal limit",
                "rows",
                "nonzeros",
                "build s",
                "LP relaxation CPU s",
                "LP relaxation",
                "MILP CPU s (per seed)",
                "MILP objective",
                "gap % (per seed)",
                "nodes",
                "peak RSS MB",
            ],
            _variant_rows(cases),
        ),
        "",
        "## Build time per formulation module (s, one run each)",
        "",
        *_table(*_module_rows(cases)),
        "",
        "The zonal-limit rows alone, rebuilt on a scratch model (`measure.py zonerows`, CPU "
        "seconds): the product's generator `sum` per row, or a `LinearExpression` from the "
        "zone's variables fetched once per period and a column of the PUE array.",
        "",
        *_table(
            ["case", "built from", "rows", "nonzeros", "GC on", "GC paused", "compile"],
            _zone_row_rows(cases),
        ),
        *_profile_lines(cases),
        *_growth_lines(cases),
        "",
    ]
    out.write_text("\n".join(lines) + ("\n" + kept if kept else ""))
