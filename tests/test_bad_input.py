"""Malformed scenarios are rejected cleanly: one line per problem naming file, row and field,
exit code 2, no traceback, nothing written.

Each case starts from a valid scenario (the tiny one of ``tests.tiny``, a full-year variant,
or a copy of ``data/default``) and breaks exactly one thing. The last tests check that valid
but numerically dangerous input is warned about, naming the field.
"""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

import optimizer.scenario_csv
from optimizer import load_scenario
from optimizer.cli import app
from optimizer.numerics import numerics_warnings
from optimizer.prepare import prepare
from tests.test_prepare import year_profiles
from tests.tiny import Tiny, cooling, flat_curve, onsite_option, site

runner = CliRunner()
DEFAULT = Path(__file__).parent.parent / "data" / "default"

Make = Callable[[Path], Path]
"""Builds a broken scenario folder under the given directory and returns it."""


@dataclass(frozen=True)
class Case:
    name: str
    make: Make
    file: str
    """The file the problem must be reported in, relative to the scenario folder."""
    row: int | None = None
    """The 1-based CSV line expected in the report (``file:row:``), if a row applies."""
    field: str | None = None
    """A column or YAML field the report line must name."""
    says: str = ""
    """Words the report line must contain (what was expected)."""
    max_file_bytes: int | None = None


# --------------------------------------------------------------------------- builders


def tiny(edit: Callable[[Tiny], object]) -> Make:
    """The tiny scenario with ``edit`` applied to its Python data before writing."""

    def make(folder: Path) -> Path:
        t = Tiny(folder)
        edit(t)
        return t.write()

    return make


def written(edit: Callable[[Path], object]) -> Make:
    """The tiny scenario written, then ``edit`` applied to its folder."""

    def make(folder: Path) -> Path:
        root = Tiny(folder).write()
        edit(root)
        return root

    return make


def replace(name: str, old: str, new: str) -> Make:
    """The tiny scenario with ``old`` replaced by ``new`` (exactly once) in file ``name``."""

    def edit(root: Path) -> None:
        text = (root / name).read_text()
        assert text.count(old) == 1, (name, old, text)
        (root / name).write_text(text.replace(old, new))

    return written(edit)


def write_bytes(name: str, content: bytes) -> Make:
    return written(lambda root: (root / name).write_bytes(content))


def delete(name: str) -> Make:
    return written(lambda root: (root / name).unlink())


def append(name: str, line: str) -> Make:
    return written(lambda root: (root / name).write_text((root / name).read_text() + line))


def set_item(path: str, value: object) -> Callable[[Tiny], None]:
    """Set a dotted key of scenario.yaml."""

    def edit(t: Tiny) -> None:
        *parents, key = path.split(".")
        node = t.config
        for part in parents:
            node = node[part]
        node[key] = value

    return edit


def symlink_outside(root: Path) -> None:
    outside = root.parent / "elsewhere.csv"
    outside.write_text((root / "zones.csv").read_text())
    (root / "zones.csv").unlink()
    (root / "zones.csv").symlink_to(outside)


def symlink_loop(root: Path) -> None:
    (root / "sites.csv").unlink()
    (root / "sites.csv").symlink_to(root / "sites.csv")


def directory_instead(name: str) -> Make:
    def edit(root: Path) -> None:
        (root / name).unlink()
        (root / name).mkdir()

    return written(edit)


def profiles_is_a_file(root: Path) -> None:
    for file in (root / "profiles").iterdir():
        file.unlink()
    (root / "profiles").rmdir()
    (root / "profiles").write_text("hour,z1\n")


def default_cell(name: str, line: int, column: str, value: str) -> Make:
    """The bundled default scenario with one cell of CSV file ``name`` set to ``value``."""

    def make(folder: Path) -> Path:
        root = Path(shutil.copytree(DEFAULT, folder / "scenario"))
        with open(root / name, newline="") as f:
            rows = list(csv.reader(f))
        rows[line - 1][rows[0].index(column)] = value
        with open(root / name, "w", newline="") as f:
            csv.writer(f, lineterminator="\n").writerows(rows)
        return root

    return make


def year_short(folder: Path) -> Tiny:
    t = year_profiles(folder, 4)
    t.price = {"z1": t.price["z1"][:-1]}
    return t


SITES_HEADER = (
    "site_id,name,latitude_deg,longitude_deg,zone_id,weather_id,min_it_mw,max_it_mw,"
    "development_capex_musd,building_capex_musd_per_mw,earliest_period,headroom_mw,"
    "headroom_period,water_limit_m3_per_year,water_price_usd_per_m3"
)
SITE_A = "a,a,32.0,-100.0,z1,w1,0.0,1000.0,0.0,1.0,2026H1,10000.0,2026H2,,0.0"


# --------------------------------------------------------------------------- the corpus

REQUIRED_FILES = [
    "scenario.yaml",
    "sites.csv",
    "zones.csv",
    "upgrades.csv",
    "cooling_technologies.csv",
    "cooling_curves.csv",
    "profiles/price_usd_per_mwh.csv",
    "profiles/carbon_kg_per_mwh.csv",
    "profiles/dry_bulb_c.csv",
    "profiles/wet_bulb_c.csv",
    "profiles/hour_weights.csv",
]

FLEX = {
    "site_id": "a",
    "nonfirm_mw": 50.0,
    "curtailment_budget_frac": 0.005,
    "lost_compute_usd_per_mwh": 1500.0,
}

WIND = {
    "contract_id": "wind",
    "zone_id": "z1",
    "technology": "wind",
    "max_mw": 100.0,
    "price_usd_per_mwh": 50.0,
    "lead_periods": 0,
}

CASES = [
    *(
        Case(f"missing {name}", delete(name), name, says="file not found")
        for name in REQUIRED_FILES
    ),
    # ----------------------------------------------------------------- columns
    Case(
        "missing column",
        replace("sites.csv", "headroom_period,water", "water"),
        "sites.csv",
        row=1,
        field="headroom_period",
        says="missing column",
    ),
    Case(
        "unknown column",
        replace("zones.csv", "import_limit_mw\n", "import_limit_mw,capacity_mw\n"),
        "zones.csv",
        row=1,
        field="capacity_mw",
        says="unknown column",
    ),
    Case(
        "duplicate column in a table",
        replace(
            "zones.csv",
            "zone_id,name,region,import_limit_mw\nz1,z1,r,\n",
            "zone_id,name,region,import_limit_mw,region\nz1,z1,r,,s\n",
        ),
        "zones.csv",
        row=1,
        field="region",
        says="duplicate column",
    ),
    # ----------------------------------------------------------------- references
    Case(
        "unknown zone",
        tiny(lambda t: t.sites.append(site("b", zone_id="nowhere"))),
        "sites.csv",
        row=3,
        field="zone_id",
        says="unknown zone 'nowhere'",
    ),
    Case(
        "unknown weather",
        tiny(lambda t: t.sites.append(site("b", weather_id="w9"))),
        "sites.csv",
        row=3,
        field="weather_id",
        says="unknown weather 'w9'",
    ),
    Case(
        "upgrade at an unknown site",
        tiny(
            lambda t: t.upgrades.extend(
                [
                    {
                        "upgrade_id": "u1",
                        "site_id": "a",
                        "name": "u1",
                        "added_mw": 100.0,
                        "capex_musd": 1.0,
                        "lead_periods": 0,
                    },
                    {
                        "upgrade_id": "u2",
                        "site_id": "zz",
                        "name": "u2",
                        "added_mw": 100.0,
                        "capex_musd": 1.0,
                        "lead_periods": 0,
                    },
                ]
            )
        ),
        "upgrades.csv",
        row=3,
        field="site_id",
        says="unknown site 'zz'",
    ),
    Case(
        "curve of an unknown cooling technology",
        tiny(lambda t: t.curves.extend(flat_curve("ghost", 1.3))),
        "cooling_curves.csv",
        row=4,
        field="cooling_id",
        says="unknown cooling technology 'ghost'",
    ),
    # ----------------------------------------------------------- flexible and on-site power
    Case(
        "flexible connection at an unknown site",
        tiny(lambda t: t.flexible.append({**FLEX, "site_id": "zz"})),
        "flexible_connections.csv",
        row=2,
        field="site_id",
        says="unknown site 'zz'",
    ),
    Case(
        "flexible connection twice at one site",
        tiny(lambda t: t.flexible.extend([FLEX, FLEX])),
        "flexible_connections.csv",
        row=3,
        field="site_id",
        says="duplicate id 'a'",
    ),
    Case(
        "curtailment budget given in percent",
        tiny(lambda t: t.flexible.append({**FLEX, "curtailment_budget_frac": 0.5})),
        "flexible_connections.csv",
        row=2,
        field="curtailment_budget_frac",
        says="less than or equal to 0.1",
    ),
    Case(
        "on-site option at an unknown site",
        tiny(lambda t: t.onsite.append(onsite_option("g", "zz"))),
        "onsite_power.csv",
        row=2,
        field="site_id",
        says="unknown site 'zz'",
    ),
    Case(
        "duplicate on-site option",
        tiny(lambda t: t.onsite.extend([onsite_option("g", "a"), onsite_option("g", "a")])),
        "onsite_power.csv",
        row=3,
        field="option_id",
        says="duplicate id 'g'",
    ),
    Case(
        "on-site heat rate in Btu/kWh",
        tiny(lambda t: t.onsite.append(onsite_option("g", "a", heat_rate_mmbtu_per_mwh=8800))),
        "onsite_power.csv",
        row=2,
        field="heat_rate_mmbtu_per_mwh",
        says="less than or equal to 30",
    ),
    Case(
        "negative air permit",
        tiny(lambda t: t.onsite.append(onsite_option("g", "a", permit_tco2_per_year=-1))),
        "onsite_power.csv",
        row=2,
        field="permit_tco2_per_year",
        says="greater than or equal to 0",
    ),
    Case(
        "CFE target without contracts",
        tiny(lambda t: t.config.update(clean_energy={"cfe_target_frac": 0.5})),
        "scenario.yaml",
        field="clean_energy.cfe_target_frac",
        says="no clean_contracts.csv",
    ),
    Case(
        "clean contract without a capacity-factor column",
        tiny(lambda t: t.contracts.append(dict(WIND))),
        "clean_contracts.csv",
        row=2,
        field="contract_id",
        says="no column for 'wind'",
    ),
    Case(
        "capacity factor above 1",
        tiny(
            lambda t: (
                t.contracts.append(dict(WIND)),
                t.capacity_factor.update(wind=[0.5, 35.0]),
            )
        ),
        "profiles/capacity_factor_frac.csv",
        row=3,
        field="wind",
    ),
    # ----------------------------------------------------------------- duplicate ids
    Case(
        "duplicate site",
        tiny(lambda t: t.sites.append(site("a"))),
        "sites.csv",
        row=3,
        field="site_id",
        says="duplicate id 'a'",
    ),
    Case(
        "duplicate zone",
        tiny(lambda t: t.zones.append(dict(t.zones[0]))),
        "zones.csv",
        row=3,
        field="zone_id",
        says="duplicate id 'z1'",
    ),
    Case(
        "duplicate upgrade",
        tiny(
            lambda t: t.upgrades.extend(
                2
                * [
                    {
                        "upgrade_id": "u1",
                        "site_id": "a",
                        "name": "u1",
                        "added_mw": 100.0,
                        "capex_musd": 1.0,
                        "lead_periods": 0,
                    }
                ]
            )
        ),
        "upgrades.csv",
        row=3,
        field="upgrade_id",
        says="duplicate id 'u1'",
    ),
    Case(
        "duplicate cooling technology",
        tiny(lambda t: t.cooling.append(cooling("liq"))),
        "cooling_technologies.csv",
        row=3,
        field="cooling_id",
        says="duplicate id 'liq'",
    ),
    Case(
        "duplicate profile column",
        replace(
            "profiles/price_usd_per_mwh.csv",
            "hour,z1\n0,0.0\n1,0.0\n",
            "hour,z1,z1\n0,0.0,1.0\n1,0.0,1.0\n",
        ),
        "profiles/price_usd_per_mwh.csv",
        row=1,
        field="z1",
        says="duplicate column",
    ),
    # ----------------------------------------------------------------- numbers in tables
    Case(
        "negative number",
        tiny(lambda t: t.sites.append(site("b", building_capex_musd_per_mw=-1.0))),
        "sites.csv",
        row=3,
        field="building_capex_musd_per_mw",
        says="greater than or equal to 0",
    ),
    Case(
        "NaN in a table",
        tiny(lambda t: t.sites.append(site("b", development_capex_musd="nan"))),
        "sites.csv",
        row=3,
        field="development_capex_musd",
        says="finite number",
    ),
    Case(
        "inf in a table",
        tiny(lambda t: t.sites.append(site("b", headroom_mw="inf"))),
        "sites.csv",
        row=3,
        field="headroom_mw",
        says="finite number",
    ),
    Case(
        "empty required cell",
        tiny(lambda t: t.sites.append(site("b", zone_id=None))),
        "sites.csv",
        row=3,
        field="zone_id",
        says="empty: a value is required",
    ),
    Case(
        "text in a numeric cell",
        tiny(lambda t: t.sites.append(site("b", max_it_mw="lots"))),
        "sites.csv",
        row=3,
        field="max_it_mw",
        says="valid number",
    ),
    Case(
        "max_it_mw in kW",
        tiny(lambda t: t.sites.append(site("b", max_it_mw=1_500_000.0))),
        "sites.csv",
        row=3,
        field="max_it_mw",
        says="less than or equal to 20000",
    ),
    Case(
        "headroom in kW",
        tiny(lambda t: t.sites.append(site("b", headroom_mw=2_000_000.0))),
        "sites.csv",
        row=3,
        field="headroom_mw",
        says="less than or equal to",
    ),
    Case(
        "a 10^9 MW upgrade",
        tiny(
            lambda t: t.upgrades.append(
                {
                    "upgrade_id": "u1",
                    "site_id": "a",
                    "name": "u1",
                    "added_mw": 1e9,
                    "capex_musd": 1.0,
                    "lead_periods": 0,
                }
            )
        ),
        "upgrades.csv",
        row=2,
        field="added_mw",
        says="less than or equal to",
    ),
    Case(
        "a 10^9 MW zone import limit",
        tiny(lambda t: t.zones[0].update(import_limit_mw=1e9)),
        "zones.csv",
        row=2,
        field="import_limit_mw",
        says="less than or equal to",
    ),
    Case(
        "min_it_mw above max_it_mw",
        tiny(lambda t: t.sites.append(site("b", min_it_mw=500.0, max_it_mw=100.0))),
        "sites.csv",
        row=3,
        field="max_it_mw",
        says="min_it_mw",
    ),
    Case(
        "negative water limit",
        tiny(lambda t: t.sites.append(site("b", water_limit_m3_per_year=-5.0))),
        "sites.csv",
        row=3,
        field="water_limit_m3_per_year",
        says="greater than or equal to 0",
    ),
    Case(
        "bool that is not a bool",
        tiny(lambda t: t.cooling.append(cooling("air", serves_liquid_racks="maybe"))),
        "cooling_technologies.csv",
        row=3,
        field="serves_liquid_racks",
        says="valid boolean",
    ),
    Case(
        "bad period label",
        tiny(lambda t: t.sites.append(site("b", earliest_period="2026H3"))),
        "sites.csv",
        row=3,
        field="earliest_period",
        says="H3 does not exist",
    ),
    Case(
        "site period of another kind than the horizon",
        tiny(lambda t: t.sites.append(site("b", headroom_period="2026Q3"))),
        "sites.csv",
        row=3,
        field="headroom_period",
        says="half-year",
    ),
    # ----------------------------------------------------------------- cooling curves
    Case(
        "unsorted breakpoints",
        tiny(
            lambda t: t.curves.extend(
                [
                    {"cooling_id": "liq", "quantity": "pue", "ambient_c": 30.0, "value": 1.3},
                    {"cooling_id": "liq", "quantity": "pue", "ambient_c": 10.0, "value": 1.2},
                ]
            )
        ),
        "cooling_curves.csv",
        row=5,
        field="ambient_c",
        says="breakpoints must increase",
    ),
    Case(
        "duplicate breakpoint",
        tiny(
            lambda t: t.curves.append(
                {"cooling_id": "liq", "quantity": "wue_l_per_kwh", "ambient_c": 0.0, "value": 0.1}
            )
        ),
        "cooling_curves.csv",
        row=4,
        field="ambient_c",
        says="breakpoints must increase",
    ),
    # ----------------------------------------------------------------- scenario.yaml
    Case(
        "last period before first",
        tiny(set_item("horizon.last_period", "2026H1")),
        "scenario.yaml",
        row=4,
        field="horizon.last_period",
        says="first_period",
    ),
    Case(
        "target falls over time",
        tiny(lambda t: t.periods("2026H2", "2027H1", [200.0, 100.0])),
        "scenario.yaml",
        row=8,
        field="portfolio.target_it_mw_by_period",
        says="non-decreasing",
    ),
    Case(
        "target misses a horizon period",
        tiny(set_item("horizon.last_period", "2027H1")),
        "scenario.yaml",
        says="portfolio.target_it_mw_by_period misses 2027H1",
    ),
    Case(
        "a 10^9 MW target",
        tiny(set_item("portfolio.target_it_mw_by_period", {"2026H2": 1e9})),
        "scenario.yaml",
        row=9,
        field="portfolio.target_it_mw_by_period.2026H2",
        says="less than or equal to",
    ),
    Case(
        "bad period label in the horizon",
        tiny(set_item("horizon.first_period", "2026H3")),
        "scenario.yaml",
        row=3,
        field="horizon.first_period",
        says="H3 does not exist",
    ),
    Case(
        "bool that is not a bool in YAML",
        tiny(set_item("portfolio.requires_liquid_cooling", "sometimes")),
        "scenario.yaml",
        row=11,
        field="portfolio.requires_liquid_cooling",
        says="valid boolean",
    ),
    Case(
        "NaN in YAML",
        replace(
            "scenario.yaml", "discount_rate_frac_per_year: 0.0", "discount_rate_frac_per_year: .nan"
        ),
        "scenario.yaml",
        row=5,
        field="horizon.discount_rate_frac_per_year",
        says="finite number",
    ),
    Case(
        "unknown YAML field",
        replace("scenario.yaml", "  base_year: 2026.5\n", "  base_year: 2026.5\n  base_yr: 2026\n"),
        "scenario.yaml",
        row=7,
        field="horizon.base_yr",
        says="unknown field; did you mean 'base_year'?",
    ),
    Case(
        "missing YAML field",
        tiny(lambda t: t.portfolio.pop("it_load_factor_frac")),
        "scenario.yaml",
        row=7,
        field="portfolio.it_load_factor_frac",
        says="missing",
    ),
    Case(
        "horizon mixing half-years and quarters",
        tiny(set_item("horizon.last_period", "2026Q4")),
        "scenario.yaml",
        row=4,
        field="horizon.last_period",
        says="expected a half-year",
    ),
    Case(
        "malformed YAML",
        write_bytes("scenario.yaml", b"name: tiny\nhorizon: [unclosed\n"),
        "scenario.yaml",
        row=3,
        says="not valid YAML",
    ),
    Case(
        "YAML that is a list",
        write_bytes("scenario.yaml", b"- name: tiny\n- horizon: {}\n"),
        "scenario.yaml",
        says="mapping",
    ),
    Case(
        "YAML with a tab",
        replace("scenario.yaml", "  last_period", "\tlast_period"),
        "scenario.yaml",
        row=4,
        says="not valid YAML",
    ),
    Case(
        "YAML nested too deep",
        write_bytes("scenario.yaml", b"name: " + b"[" * 20_000 + b"]" * 20_000 + b"\n"),
        "scenario.yaml",
        says="nested",
    ),
    Case("empty YAML", write_bytes("scenario.yaml", b""), "scenario.yaml", says="mapping"),
    # ----------------------------------------------------------------- CSV files
    Case(
        "UTF-8 byte-order mark",
        written(
            lambda r: (r / "sites.csv").write_bytes(
                b"\xef\xbb\xbf" + (r / "sites.csv").read_bytes()
            )
        ),
        "sites.csv",
        says="byte-order mark",
    ),
    Case(
        "semicolon delimiter in a table",
        write_bytes("sites.csv", f"{SITES_HEADER}\n{SITE_A}\n".replace(",", ";").encode()),
        "sites.csv",
        row=1,
        says="comma",
    ),
    Case(
        "semicolon delimiter in a profile",
        write_bytes("profiles/dry_bulb_c.csv", b"hour;w1\n0;20.0\n1;30.0\n"),
        "profiles/dry_bulb_c.csv",
        row=1,
        says="comma",
    ),
    Case(
        "header only sites",
        write_bytes("sites.csv", f"{SITES_HEADER}\n".encode()),
        "sites.csv",
        says="no rows",
    ),
    Case("empty table file", write_bytes("sites.csv", b""), "sites.csv", says="header row"),
    Case(
        "empty profile file",
        write_bytes("profiles/wet_bulb_c.csv", b""),
        "profiles/wet_bulb_c.csv",
        says="header row",
    ),
    Case(
        "row with too many cells",
        append("sites.csv", SITE_A.replace("a,a,", "b,b,") + ",extra\n"),
        "sites.csv",
        row=3,
        says="one cell more than the header (15 columns; a trailing comma?)",
    ),
    Case(
        "profile row with too many cells",
        append("profiles/price_usd_per_mwh.csv", "2,0.0,7\n"),
        "profiles/price_usd_per_mwh.csv",
        row=4,
        says="one cell more than the header",
    ),
    Case(
        "non-UTF-8 file",
        write_bytes(
            "zones.csv", "zone_id,name,region,import_limit_mw\nz1,Zürich,r,\n".encode("latin-1")
        ),
        "zones.csv",
        row=2,
        says="UTF-8",
    ),
    Case(
        "cell larger than the CSV field limit",
        append("sites.csv", SITE_A.replace("a,a,", "b," + "x" * 200_000 + ",") + "\n"),
        "sites.csv",
        row=3,
        says="readable CSV",
    ),
    Case(
        "row number after a blank line",
        append(
            "sites.csv", "\n" + SITE_A.replace("a,a,32.0,-100.0,z1", "b,b,32.0,-100.0,zz") + "\n"
        ),
        "sites.csv",
        row=4,
        field="zone_id",
        says="unknown zone 'zz'",
    ),
    Case(
        "symlink outside the scenario folder",
        written(symlink_outside),
        "zones.csv",
        says="outside the scenario folder",
    ),
    Case("symlink loop", written(symlink_loop), "sites.csv", says="cannot be read"),
    Case(
        "directory where a file should be",
        directory_instead("sites.csv"),
        "sites.csv",
        says="not a file",
    ),
    Case(
        "profiles is a file, not a folder",
        written(profiles_is_a_file),
        "profiles/price_usd_per_mwh.csv",
        says="cannot be read",
    ),
    Case(
        "huge file",
        written(lambda r: None),
        "sites.csv",
        says="larger than",
        max_file_bytes=200,
    ),
    Case(
        "row number after a quoted line break",
        append("sites.csv", '"b","two\nlines"' + SITE_A.removeprefix("a,a")[:-1] + "x\n"),
        "sites.csv",
        row=3,
        field="water_price_usd_per_m3",
        says="valid number",
    ),
    Case(
        "column without a name",
        replace("zones.csv", "import_limit_mw\nz1,z1,r,\n", "import_limit_mw,\nz1,z1,r,,\n"),
        "zones.csv",
        row=1,
        says="column 5 has no name",
    ),
    Case(
        "blank first line",
        replace("cooling_technologies.csv", "cooling_id,name", "\ncooling_id,name"),
        "cooling_technologies.csv",
        row=1,
        says="expected a header row",
    ),
    Case(
        "default scenario with one headroom in kW",
        default_cell("sites.csv", 12, "headroom_mw", "350000"),
        "sites.csv",
        row=12,
        field="headroom_mw",
        says="less than or equal to",
    ),
    Case(
        "default scenario with a site in an unknown zone",
        default_cell("sites.csv", 30, "zone_id", "ercot_nowhere"),
        "sites.csv",
        row=30,
        field="zone_id",
        says="unknown zone 'ercot_nowhere'",
    ),
    # ----------------------------------------------------------------- profiles
    Case(
        "profile rows with too few cells",
        replace("profiles/carbon_kg_per_mwh.csv", "hour,z1\n", "hour,z1,z2\n"),
        "profiles/carbon_kg_per_mwh.csv",
        row=2,
        says="one cell less than the header (3 columns)",
    ),
    Case(
        "NaN in a profile",
        replace("profiles/price_usd_per_mwh.csv", "1,0.0\n", "1,nan\n"),
        "profiles/price_usd_per_mwh.csv",
        row=3,
        field="z1",
        says="finite number",
    ),
    Case(
        "inf in a profile",
        replace("profiles/carbon_kg_per_mwh.csv", "0,0.0\n", "0,inf\n"),
        "profiles/carbon_kg_per_mwh.csv",
        row=2,
        field="z1",
        says="finite number",
    ),
    Case(
        "empty cell in a profile",
        replace("profiles/dry_bulb_c.csv", "1,30.0\n", "1,\n"),
        "profiles/dry_bulb_c.csv",
        row=3,
        field="w1",
        says="empty: expected a number",
    ),
    Case(
        "text in a profile",
        replace("profiles/price_usd_per_mwh.csv", "1,0.0\n", "1,n/a\n"),
        "profiles/price_usd_per_mwh.csv",
        row=3,
        field="z1",
        says="finite number",
    ),
    Case(
        "profile of the wrong length",
        append("profiles/price_usd_per_mwh.csv", "2,0.0\n"),
        "profiles/price_usd_per_mwh.csv",
        field="hour",
        says="expected 2 hours",
    ),
    Case(
        "full-year profile one hour short",
        lambda folder: year_short(folder).write(),
        "profiles/price_usd_per_mwh.csv",
        field="hour",
        says="expected 8760 hours",
    ),
    Case(
        "hour column out of order",
        replace("profiles/wet_bulb_c.csv", "0,15.0\n1,22.0\n", "1,15.0\n0,22.0\n"),
        "profiles/wet_bulb_c.csv",
        row=2,
        field="hour",
        says="in order",
    ),
    Case(
        "dry bulb of 150 C",
        replace("profiles/dry_bulb_c.csv", "1,30.0\n", "1,150.0\n"),
        "profiles/dry_bulb_c.csv",
        row=3,
        field="w1",
        says="outside [-60, 65]",
    ),
    Case(
        "hour weights not summing to 8760",
        replace("profiles/hour_weights.csv", "1,4380.0\n", "1,438.0\n"),
        "profiles/hour_weights.csv",
        field="weight_h",
        says="expected 8760",
    ),
]


def targets_from(first: str, last: str) -> Callable[[Tiny], object]:
    """A horizon from ``first`` to ``last`` with 100 MW due in every period."""

    def edit(t: Tiny) -> None:
        from optimizer.periods import Period, period_range

        n = len(period_range(Period.parse(first), Period.parse(last)))
        t.periods(first, last, [100.0] * n)

    return edit


def discount(rate: float) -> Callable[[Tiny], object]:
    def edit(t: Tiny) -> None:
        targets_from("2026H2", "2066H1")(t)
        t.config["horizon"]["discount_rate_frac_per_year"] = rate

    return edit


# Input that passes the types but cannot be right (issue 9, section 5), and names that are
# paths (section 1): refused like any other bad input, naming the line.
CASES += [
    Case(
        "YAML key given twice",
        append("scenario.yaml", "name: other\n"),
        "scenario.yaml",
        row=13,
        field="name",
        says="given twice (lines 1 and 13)",
    ),
    Case(
        "second target for the same period",
        replace("scenario.yaml", "    2026H2: 100.0\n", "    2026H2: 100.0\n    2026H2: 50.0\n"),
        "scenario.yaml",
        row=10,
        field="portfolio.target_it_mw_by_period.2026H2",
        says="given twice (lines 9 and 10)",
    ),
    Case(
        "YAML number with an underscore",
        replace("scenario.yaml", "2026H2: 100.0", "2026H2: 1_00"),
        "scenario.yaml",
        row=9,
        field="portfolio.target_it_mw_by_period.2026H2",
        says="'1_00' is not a plain number",
    ),
    Case(
        "YAML number in sexagesimal",
        replace("scenario.yaml", "construction_lead_periods: 1", "construction_lead_periods: 1:30"),
        "scenario.yaml",
        row=10,
        field="portfolio.construction_lead_periods",
        says="not a plain number",
    ),
    Case(
        "scenario name that climbs out of out/",
        tiny(set_item("name", "../victim")),
        "scenario.yaml",
        row=1,
        field="name",
        says="path separator",
    ),
    Case(
        "scenario name that is an absolute path",
        tiny(set_item("name", "/tmp/victim")),
        "scenario.yaml",
        row=1,
        field="name",
        says="path separator",
    ),
    Case(
        "scenario name that is a dot",
        tiny(set_item("name", ".")),
        "scenario.yaml",
        row=1,
        field="name",
        says="only dots",
    ),
    Case(
        "scenario name with a control character",
        tiny(set_item("name", "plan\x07")),
        "scenario.yaml",
        row=1,
        field="name",
        says="control character",
    ),
    Case(
        "scenario name of 300 characters",
        tiny(set_item("name", "n" * 300)),
        "scenario.yaml",
        row=1,
        field="name",
        says="at most 100 characters",
    ),
    Case(
        "period with Arabic-Indic digits in YAML",
        tiny(set_item("horizon.first_period", "\u0662\u0660\u0662\u0666H2")),
        "scenario.yaml",
        row=3,
        field="horizon.first_period",
        says="expected a period like 2027H1 (a half-year) or 2027Q3 (a quarter)",
    ),
    Case(
        "horizon 7,000 years after the base year",
        tiny(targets_from("9026H2", "9027H1")),
        "scenario.yaml",
        row=2,
        field="horizon",
        says="first_period 9026H2 is 7,000 years from base_year 2026.5",
    ),
    Case(
        "discount factors of 1e-7",
        tiny(discount(0.5)),
        "scenario.yaml",
        row=2,
        field="horizon",
        says="expected factors between 1e-06 and 1e+06",
    ),
    Case(
        "a block of 1e-300 MW",
        tiny(set_item("portfolio.block_it_mw", 1e-300)),
        "scenario.yaml",
        row=13,
        field="portfolio.block_it_mw",
        says="greater than or equal to 0.1",
    ),
    Case(
        "site maximum of 1e-300 MW",
        tiny(lambda t: t.sites.append(site("b", max_it_mw=1e-300))),
        "sites.csv",
        row=3,
        field="max_it_mw",
        says="greater than or equal to 0.1",
    ),
    Case(
        "ids that differ only by case",
        tiny(lambda t: t.sites.append(site("A"))),
        "sites.csv",
        row=3,
        field="site_id",
        says="'A' differs from 'a' (row 2) only by case",
    ),
    Case(
        "reference that differs only by case",
        tiny(lambda t: t.sites.append(site("b", zone_id="Z1"))),
        "sites.csv",
        row=3,
        field="zone_id",
        says="unknown zone 'Z1' (not in zones.csv; did you mean 'z1'?)",
    ),
    Case(
        "number with an underscore",
        tiny(lambda t: t.sites.append(site("b", max_it_mw="3_00"))),
        "sites.csv",
        row=3,
        field="max_it_mw",
        says="a number with '_' in it; write the digits only, e.g. 300 (got '3_00')",
    ),
    Case(
        "non-breaking space inside a number",
        tiny(lambda t: t.sites.append(site("b", headroom_mw="1\u00a0000"))),
        "sites.csv",
        row=3,
        field="headroom_mw",
        says="contains U+00A0 (no-break space)",
    ),
    Case(
        "non-breaking space after an id",
        tiny(lambda t: t.sites.append(site("b\u00a0"))),
        "sites.csv",
        row=3,
        field="site_id",
        says="contains U+00A0 (no-break space)",
    ),
    Case(
        "NUL byte inside an id",
        tiny(lambda t: t.sites.append(site("b\x00c"))),
        "sites.csv",
        row=3,
        field="site_id",
        says="a control character (U+0000)",
    ),
    Case(
        "NUL byte inside a name",
        tiny(lambda t: t.sites.append(site("b", name="b\x00"))),
        "sites.csv",
        row=3,
        field="name",
        says="a control character (U+0000)",
    ),
    Case(
        "Arabic-Indic digits in a period",
        tiny(lambda t: t.sites.append(site("b", earliest_period="\u0662\u0660\u0662\u0666H1"))),
        "sites.csv",
        row=3,
        field="earliest_period",
        says="U+0662 (arabic-indic digit two)",
    ),
    Case(
        "site permitted 2,000 years before the horizon",
        tiny(lambda t: t.sites.append(site("b", earliest_period="0026H1"))),
        "sites.csv",
        row=3,
        field="earliest_period",
        says="0026H1 is 2,000 years from the horizon's first period 2026H2",
    ),
    Case(
        "column name with a typo",
        replace("sites.csv", "max_it_mw,", "max_it_mv,"),
        "sites.csv",
        row=1,
        field="max_it_mv",
        says="unknown column; did you mean 'max_it_mw'?",
    ),
    Case(
        "trailing comma on every profile row",
        replace("profiles/price_usd_per_mwh.csv", "0,0.0\n1,0.0\n", "0,0.0,\n1,-5.0,\n"),
        "profiles/price_usd_per_mwh.csv",
        row=2,
        says="one cell more than the header (2 columns; a trailing comma?)",
    ),
    Case(
        "trailing comma on every table row",
        replace("zones.csv", "z1,z1,r,\n", "z1,z1,r,,\n"),
        "zones.csv",
        row=2,
        says="one cell more than the header (4 columns; a trailing comma?)",
    ),
    Case(
        "profile row after a blank line",
        replace("profiles/dry_bulb_c.csv", "0,20.0\n1,30.0\n", "0,20.0\n\n1,3O.0\n"),
        "profiles/dry_bulb_c.csv",
        row=4,
        field="w1",
        says="not a finite number (got '3O.0')",
    ),
    Case(
        "number with an underscore in a profile",
        replace("profiles/price_usd_per_mwh.csv", "1,0.0\n", "1,3_00\n"),
        "profiles/price_usd_per_mwh.csv",
        row=3,
        field="z1",
        says="a number with '_' in it",
    ),
    Case(
        "non-breaking space in a profile",
        replace("profiles/price_usd_per_mwh.csv", "1,0.0\n", "1,1\u00a0000\n"),
        "profiles/price_usd_per_mwh.csv",
        row=3,
        field="z1",
        says="not a plain number",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_exits_2_naming_file_row_field_and_writes_nothing(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if case.max_file_bytes is not None:
        monkeypatch.setattr(optimizer.scenario_csv, "MAX_FILE_BYTES", case.max_file_bytes)
    folder = case.make(tmp_path)
    out = tmp_path / "out"
    # "file:row: field: message", "file: field: message", "file:row: message" or "file: message"
    where = f"{folder / case.file}" + (f":{case.row}:" if case.row is not None else "")
    if case.field is not None:
        where += f" {case.field}:" if case.row is not None else f": {case.field}:"
    for args in (["solve", str(folder), "--out", str(out)], ["validate", str(folder)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (result.output, result.exception)
        assert "Traceback" not in result.output
        assert not out.exists()
        assert any(where in line and case.says in line for line in result.output.splitlines()), (
            f"no line with {where!r} and {case.says!r} in:\n{result.output}"
        )


def test_the_corpus_is_large() -> None:
    assert len(CASES) >= 40


# --------------------------------------------------------------------------- numerics


def test_tiny_coefficient_next_to_big_ones_is_warned_about_by_field(tmp_path: Path) -> None:
    """Valid input, dangerous numbers: a water price of 1e-9 USD/m3 (WUE 1 L/kWh, 8,760 h,
    half a year: 4.38e-12 M USD per MW) next to a development capex of 1e4 M USD spans 2e15
    in the objective; a WUE breakpoint of 1e-12 L/kWh under a water limit puts 8.76e-15 hm3
    per MW-year in the constraint matrix next to max_it_mw 1000. One warning per field."""
    t = Tiny(tmp_path)
    t.curves = flat_curve("liq", 1.25, wue_l_per_kwh=1.0)
    t.sites = [site("a", development_capex_musd=1e4, water_price_usd_per_m3=1e-9)]
    t.cooling.append(cooling("dry"))
    t.curves += flat_curve("dry", 1.3, wue_l_per_kwh=1e-12)
    t.sites.append(site("b", water_limit_m3_per_year=1e6))
    warnings = numerics_warnings(prepare(load_scenario(t.write())))
    assert len(warnings) == 2, warnings
    water_cost, water_use = sorted(warnings)
    assert "water_cost_musd_per_mw_year" in water_cost
    assert "water_price_usd_per_m3" in water_cost and "1e+09" in water_cost
    assert "water_hm3_per_mw_year" in water_use and "wue_l_per_kwh" in water_use


def test_tame_scenarios_give_no_numerics_warning(tmp_path: Path) -> None:
    assert numerics_warnings(prepare(load_scenario(Tiny(tmp_path).write()))) == []
    assert numerics_warnings(prepare(load_scenario(DEFAULT))) == []


def test_a_file_given_as_the_scenario_folder_exits_2(tmp_path: Path) -> None:
    file = tmp_path / "scenario.yaml"
    file.write_text("name: x\n")
    result = runner.invoke(app, ["solve", str(file), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "scenario folder not found" in result.output
    assert not (tmp_path / "out").exists()


def test_headroom_in_kw_is_caught(tmp_path: Path) -> None:
    """50 MW of headroom typed in kW (50,000) passes for MW only up to twice the largest
    campus (40,000 MW of facility draw): beyond that it is a unit error, not a grid."""
    from optimizer.cli import app
    from tests.tiny import Tiny, site

    tiny = Tiny(tmp_path)
    tiny.sites = [site("a", headroom_mw=50_000.0)]
    result = CliRunner().invoke(app, ["validate", str(tiny.write())])
    assert result.exit_code == 2
    assert "sites.csv:2: headroom_mw:" in result.output
