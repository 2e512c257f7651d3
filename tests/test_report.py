"""Examples for report.table: plain columns aligned by display width, one row per line."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from mlflow_allowance.report import table

HEADERS = ["MODEL", "ALLOWANCE"]

# (rows, expected table under HEADERS); the MODEL column is as wide as its widest cell in terminal cells.
ALIGNED = [
    pytest.param(
        [["AImodel", "<=1.0"], ["*", "==2.0"]],
        "MODEL    ALLOWANCE\nAImodel  <=1.0\n*        ==2.0",
        id="ascii",
    ),
    pytest.param(
        # Two characters, four cells: padded with three spaces (plus two between columns), not five.
        [["模型", "<=1.0"], ["AImodel", "==2.0"]],
        "MODEL    ALLOWANCE\n模型     <=1.0\nAImodel  ==2.0",
        id="cjk",
    ),
    pytest.param(
        [["模型模型", "<=1.0"], ["AImodel", "==2.0"]],
        "MODEL     ALLOWANCE\n模型模型  <=1.0\nAImodel   ==2.0",
        id="cjk-widest",
    ),
    pytest.param(
        # Six characters, seven cells: as wide as AImodel.
        [["🚀model", "<=1.0"], ["AImodel", "==2.0"]],
        "MODEL    ALLOWANCE\n🚀model  <=1.0\nAImodel  ==2.0",
        id="emoji",
    ),
    pytest.param(
        # 'e' and a combining acute accent: five characters, four cells.
        [["cafe\u0301", "<=1.0"], ["AImodel", "==2.0"]],
        "MODEL    ALLOWANCE\ncafe\u0301     <=1.0\nAImodel  ==2.0",
        id="combining-character",
    ),
    pytest.param(
        [["model", "模型"], ["AImodel", "🚀"]],
        "MODEL    ALLOWANCE\nmodel    模型\nAImodel  🚀",
        id="wide-last-column-not-padded",
    ),
    pytest.param(
        [],
        "MODEL  ALLOWANCE",
        id="no-rows",
    ),
]

# (cell, what it becomes): a cell that spans lines is joined onto one, so each row stays one line.
MULTI_LINE = [
    pytest.param("line one\nline two", "line one line two", id="two-lines"),
    pytest.param("  indented\n\n  after a blank line  ", "indented after a blank line", id="blank-line"),
    pytest.param("windows\r\nline ends", "windows line ends", id="crlf"),
    pytest.param("carriage\rreturn", "carriage return", id="bare-cr"),
    pytest.param("trailing newline\n", "trailing newline", id="trailing-newline"),
    pytest.param("模型\n🚀model", "模型 🚀model", id="wide-characters"),
]


class TestTable:
    @pytest.mark.parametrize(("rows", "expected"), ALIGNED)
    def test_aligns_by_display_width(self, rows: Sequence[Sequence[str]], expected: str) -> None:
        assert table(HEADERS, rows) == expected

    @pytest.mark.parametrize(("cell", "joined"), MULTI_LINE)
    def test_multi_line_cell_becomes_one_line(self, cell: str, joined: str) -> None:
        """A cell that spans lines, in any column, renders as its one-line form does."""
        rendered = table(HEADERS, [[cell, "<=1.0"], ["AImodel", cell]])
        assert rendered == table(HEADERS, [[joined, "<=1.0"], ["AImodel", joined]])
        assert len(rendered.splitlines()) == 3

    def test_multi_line_header_becomes_one_line(self) -> None:
        assert table(["MODEL\nNAME", "ALLOWANCE"], [["m", "*"]]) == "MODEL NAME  ALLOWANCE\nm           *"

    def test_one_row_per_line_for_grep(self) -> None:
        rows = [["模型", "first\nline"], ["🚀model", "<=1.0"], ["AImodel", "==2.0"]]
        rendered = table(HEADERS, rows)
        assert [line for line in rendered.splitlines() if "模型" in line] == ["模型     first line"]
        assert len(rendered.splitlines()) == 1 + len(rows)

    def test_single_line_cell_is_kept_as_given(self) -> None:
        assert table(["A", "B"], [["  a", "b  "]]) == "A    B\n  a  b"
