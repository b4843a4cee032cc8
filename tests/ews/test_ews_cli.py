"""``hygeia ews score``: good files, malformed files, pass-through, errors per row."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import typer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from hygeia.cli.ews import register
from hygeia.ews import score_news2

HEADER = "id,rr,spo2,scale,on_oxygen,sbp,pulse,acvpu,temp_c\n"


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    a = typer.Typer()

    @a.callback()
    def _root() -> None:
        """test root"""

    register(a)
    return a


def run(app: typer.Typer, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["ews", "score", *args])
    return result.exit_code, result.stdout, result.stderr


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_scores_to_stdout_and_file(app: typer.Typer, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(HEADER + "p1,16,97,1,false,120,70,A,37.0\np2,26,95,2,true,95,115,C,38.5\n")
    code, out, err = run(app, str(src))
    assert code == 0, err
    rows = rows_of(out)
    assert [r["id"] for r in rows] == ["p1", "p2"]
    assert rows[0]["news2_total"] == "0" and rows[0]["news2_risk"] == "low" and rows[0]["any_red_3"] == "false"
    assert rows[0]["response"].startswith("minimum 12 hourly")
    assert rows[1]["news2_risk"] == "high" and rows[1]["error"] == ""
    assert "scored 2 of 2 rows" in err
    dest = tmp_path / "out.csv"
    code, out, _ = run(app, str(src), "-o", str(dest))
    assert code == 0 and out == ""
    assert rows_of(dest.read_text()) == rows
    assert not list(tmp_path.glob(".*partial"))


def test_bad_rows_get_error_naming_field(app: typer.Typer, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(
        HEADER
        + "ok,16,97,,false,120,70,A,37.0\n"  # empty scale -> 1
        + "a,fast,97,1,false,120,70,A,37.0\n"
        + "b,16,,1,false,120,70,A,37.0\n"
        + "c,16,97,3,false,120,70,A,37.0\n"
        + "d,16,97,1,perhaps,120,70,A,37.0\n"
        + "e,16,97,1,false,120,70,Q,37.0\n"
        + "f,16,97,1,false,120,70,A,98.6\n"  # Fahrenheit
        + "g,16,97,1,false,120,70\n"  # short row
        + "h,16,97,1,false,120,70,A,37.0,extra\n"  # long row
        + "i,nan,inf,1,false,120,70,A,37.0\n"
    )
    code, out, err = run(app, str(src))
    assert code == 0, err
    rows = {r["id"]: r for r in rows_of(out)}
    assert rows["ok"]["error"] == "" and rows["ok"]["news2_total"] == "0"
    expect = {
        "a": "rr:",
        "b": "spo2: missing",
        "c": "scale:",
        "d": "on_oxygen:",
        "e": "acvpu:",
        "f": "temp_c:",
        "g": "fewer fields",
        "h": "more field",
        "i": "spo2:",
    }
    for key, text in expect.items():
        assert text in rows[key]["error"], (key, rows[key]["error"])
        assert rows[key]["news2_total"] == ""
    assert "rr:" in rows["i"]["error"]
    assert f"{len(expect)} with errors" in err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"id,rr,spo2\n1,2,3\n", "missing column(s) scale, on_oxygen"),
        (b"\xef\xbb\xbf" + HEADER.replace("temp_c", "temp").encode(), "temp_c"),
    ],
)
def test_whole_file_errors_exit_nonzero(app: typer.Typer, tmp_path: Path, content: bytes, message: str) -> None:
    src = tmp_path / "in.csv"
    src.write_bytes(content)
    dest = tmp_path / "out.csv"
    code, _, err = run(app, str(src), "-o", str(dest))
    assert code == 2
    assert message in err and "Traceback" not in err
    assert not dest.exists() and not list(tmp_path.glob(".*partial"))


def test_missing_input_file(app: typer.Typer, tmp_path: Path) -> None:
    code, _, err = run(app, str(tmp_path / "nope.csv"))
    assert code == 2 and "no such file" in err


def test_bom_quotes_and_non_utf8_ids_pass_through(app: typer.Typer, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    body = HEADER + '"Smith, J",16,97,1,false,120,70,A,37.0\n'
    src.write_bytes(b"\xef\xbb\xbf" + body.encode() + b"caf\xe9,16,97,1,false,120,70,A,37.0\n")
    dest = tmp_path / "out.csv"
    code, _, err = run(app, str(src), "-o", str(dest))
    assert code == 0, err
    data = dest.read_bytes()
    assert b"caf\xe9," in data  # the id's bytes are kept as they were
    assert b'"Smith, J"' in data and not data.startswith(b"\xef\xbb\xbf")


def test_existing_output_columns_are_replaced(app: typer.Typer, tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(HEADER.strip() + ",news2_total\np,16,97,1,false,120,70,A,37.0,99\n")
    code, out, _ = run(app, str(src))
    assert code == 0
    assert out.splitlines()[0].count("news2_total") == 1
    assert rows_of(out)[0]["news2_total"] == "0"


values = st.fixed_dictionaries(
    {
        "rr": st.integers(0, 60).map(str) | st.sampled_from(["", "x", "-1"]),
        "spo2": st.integers(60, 100).map(str) | st.sampled_from(["", "101"]),
        "scale": st.sampled_from(["1", "2", "", "3"]),
        "on_oxygen": st.sampled_from(["true", "false", "", "1", "0", "maybe"]),
        "sbp": st.integers(50, 260).map(str),
        "pulse": st.integers(25, 200).map(str),
        "acvpu": st.sampled_from([*"ACVPUa", "", "Z"]),
        "temp_c": st.floats(32, 42).map(lambda x: f"{x:.1f}"),
    }
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(values, min_size=1, max_size=15))
def test_cli_agrees_with_scalar_scoring(app: typer.Typer, tmp_path: Path, rows: list[dict[str, str]]) -> None:
    src = tmp_path / "h.csv"
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    src.write_text(buf.getvalue())
    code, out, _ = run(app, str(src))
    assert code == 0
    for given_row, got in zip(rows, rows_of(out), strict=True):
        try:
            r = score_news2(
                {k: v for k, v in given_row.items() if k != "scale" and v != ""},
                scale=int(given_row["scale"] or 1),
            )
            expected_ok = r.complete
        except ValueError:
            expected_ok = False
        assert (got["error"] == "") == expected_ok, (given_row, got["error"])
        if expected_ok:
            assert got["news2_total"] == str(r.total) and got["news2_risk"] == r.risk
