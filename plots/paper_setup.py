"""The paper's setup per experiment, for REPORT.md, read from the one place
it is written: the "Per experiment" table of docs/paper-setup.md (columns:
experiment | paper | ours, quick | ours, full | differences and why). A row
may name several experiments (`a`, `b`); a row whose paper cell is in
parentheses is not a paper figure and is left out."""
import functools
import os
import re

HEADING = "## Per experiment"


def _cells(line):
    return [c.strip() for c in line.strip().strip("|").split("|")]


def parse(text):
    """experiment name -> (paper's setup, differences and why)."""
    rows, inside = {}, False
    for line in text.splitlines():
        if line.startswith("## "):
            inside = line.strip() == HEADING
            continue
        if not inside or not line.startswith("|") or line.startswith("|---"):
            continue
        cells = _cells(line)
        if len(cells) < 5 or cells[0] == "experiment":
            continue
        paper, diff = cells[1], cells[4]
        if paper.startswith("("):
            continue
        for name in re.findall(r"`([^`]+)`", cells[0]):
            rows[name] = (paper, diff)
    return rows


@functools.lru_cache(maxsize=None)
def _rows(exp_dir):
    """The doc's rows, read once per report (empty when the doc is absent)."""
    doc = os.path.join(exp_dir, os.pardir, "docs", "paper-setup.md")
    if not os.path.isfile(doc):
        return {}
    with open(doc, encoding="utf-8") as f:
        return parse(f.read())


def setup_lines(name, exp_dir):
    """REPORT.md lines for one experiment (none when the doc or its row is absent)."""
    row = _rows(exp_dir).get(name)
    if row is None:
        return []
    paper, diff = row
    return [f"**Paper's setup:** {paper}", "", f"**Our setup against it, and why:** {diff} "
            "(docs/paper-setup.md)", ""]
