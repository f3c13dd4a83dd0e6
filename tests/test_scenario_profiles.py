"""Profiles read without pandas (numpy's C parser, or cell by cell) give what pandas gives."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from optimizer import load_scenario
from optimizer.api import DEFAULT_SCENARIO
from optimizer.errors import Problem
from optimizer.scenario_profiles import _load_profile, _number

BOUNDS = (-1000.0, 10000.0)


def test_frames_are_pandas_reading_of_the_files() -> None:
    """The bundled profiles (plain numbers: numpy reads them whole) are exactly what
    ``pandas.read_csv`` reads from the same files."""
    scenario = load_scenario(DEFAULT_SCENARIO)
    for name, frame in scenario.profiles.frames.items():
        expected = pd.read_csv(DEFAULT_SCENARIO / "profiles" / f"{name}.csv", dtype=float)
        expected = expected.set_index("hour")
        pd.testing.assert_frame_equal(frame, expected, check_exact=True)
        assert scenario.profiles.tables[name].ids == tuple(expected.columns)


def test_quoted_file_reads_as_the_plain_one(tmp_path: Path) -> None:
    """A quote anywhere sends the file through the csv module cell by cell: same values."""
    rows = "".join(f"{h},{20.5 + h / 3:.6f},-{h}e-3,{h * 7}\n" for h in range(48))
    (tmp_path / "plain.csv").write_text(f"hour,z1,z2,z3\n{rows}")
    (tmp_path / "quoted.csv").write_text(f'hour,"z1",z2,z3\n{rows}')
    problems: list[Problem] = []
    plain = _load_profile(tmp_path, "plain.csv", BOUNDS, problems)
    quoted = _load_profile(tmp_path, "quoted.csv", BOUNDS, problems)
    assert not problems and plain is not None and quoted is not None
    assert plain.ids == quoted.ids == ("z1", "z2", "z3")
    assert np.array_equal(plain.values, quoted.values)


@pytest.mark.parametrize(
    "cell",
    [
        *["5", " 5 ", "+5", "-5", "1.", ".5", "-.5", "1e5", "1E+05", "1.e5", "00005", "-0"],
        *["\u00a05", "5\t", "inf", "-Infinity", "1e400", "1e-400", "4.9e-324"],
        *["", " ", ".", "1e", "e5", "0x10", "3_00", "nan", "NaN", "-nan", "n/a", "NA"],
        *["1 5", "--5", "5.5.5", "1d5", "True", "1j", "\u0665", "\uff15", "1\u00a0000"],
        *["5\x00", "\x005"],
    ],
)
def test_a_cell_reads_as_pandas_to_numeric_reads_it(cell: str) -> None:
    """What was read before pandas left the validation path (``pd.to_numeric`` of the
    stripped cell): the same number, or not a number (NaN) alike."""
    expected = pd.to_numeric(pd.Series([cell.strip()], dtype=object), errors="coerce").iloc[0]
    got = _number(cell)
    assert (math.isnan(got) and math.isnan(expected)) or got == expected
