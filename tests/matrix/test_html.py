"""The HTML matrix page: structure, one cell per matrix cell, no network, escaping, the SVG chart."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest

from conformance.matrix import build
from conformance.matrix_html import render_html
from conformance.matrix_html_data import CHECKS_PER_CELL
from conformance.resultset import read_runs

COMPARED = ("pass", "fail", "definition-difference")


class Page(HTMLParser):
    """The parts of a page the tests look at: every start tag, the text, the scripts' contents."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.scripts: list[tuple[dict, str]] = []
        self._in: tuple[str, dict] | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._in = (tag, dict(attrs))
            if tag == "script":
                self.scripts.append((dict(attrs), ""))

    def handle_endtag(self, tag):
        if self._in and tag == self._in[0]:
            self._in = None

    def handle_data(self, data):
        if self._in is None:
            self.text.append(data)
        elif self._in[0] == "script":
            attrs, body = self.scripts[-1]
            self.scripts[-1] = (attrs, body + data)

    def cells(self) -> list[dict]:
        return [a for t, a in self.tags if t == "td" and "c" in a.get("class", "").split()]

    def data(self) -> dict:
        (body,) = [body for attrs, body in self.scripts if attrs.get("id") == "matrix-data"]
        return json.loads(body)


def matrix_of(path, rows="case"):
    return build(read_runs([path]), rows=rows)


@pytest.mark.parametrize("rows", ["case", "op"])
def test_the_page_parses_with_one_cell_per_matrix_cell_each_showing_its_status(hostile, rows):
    matrix = matrix_of(hostile.path, rows)
    page = Page(render_html(matrix))
    cells, data = page.cells(), page.data()
    assert len(cells) == len(matrix.cells) == len(data["cells"])
    assert sorted(int(a["data-i"]) for a in cells) == list(range(len(cells)))
    for attrs in cells:
        entry = data["cells"][int(attrs["data-i"])]
        cell = matrix.cell(matrix.rows[entry["r"]], matrix.columns[entry["c"]])
        assert f"s-{cell.status}" in attrs["class"].split(), (attrs, cell.status)
        assert entry["n"] == len(cell.checks)
    sections = [a["data-op"] for t, a in page.tags if t == "section" and "op" in a.get("class", "")]
    assert sorted(sections) == sorted({r["op"] for r in hostile.records if r["status"] != "not-applicable"})


def test_the_page_needs_no_network(hostile):
    html = render_html(matrix_of(hostile.path))
    assert "http://" not in html and "https://" not in html
    assert "@import" not in html
    assert re.findall(r"url\(\s*([^)#\s][^)]*)\)", html) == []  # only url(#id) references in CSS/SVG
    page = Page(html)
    links = [(t, k, v) for t, a in page.tags for k, v in a.items()
             if k in ("src", "href", "xlink:href", "action", "formaction", "poster", "data") and not v.startswith("#")]
    assert links == []
    assert [t for t, _ in page.tags if t in ("link", "img", "iframe", "object", "embed", "image")] == []


def test_strings_from_results_files_stay_text(hostile):
    title = "title " + hostile.payload
    html = render_html(matrix_of(hostile.path), title=title)
    payload = hostile.payload
    assert payload not in html
    assert "<img" not in html.lower() and "<script>alert" not in html.lower()
    assert html.lower().count("</script") == 2  # the data block and the page's own script
    page = Page(html)
    assert [t for t, _ in page.tags if t == "img"] == []
    assert [(t, k) for t, a in page.tags for k in a if k.lower().startswith("on")] == []
    scripts = [attrs for attrs, _ in page.scripts]
    assert scripts == [{"type": "application/json", "id": "matrix-data"}, {}]
    text = "".join(page.text)
    for shown in (payload, "evil-" + payload, "torch.evil" + payload, "2.1" + payload, 'run<b>&"\'.jsonl', title):
        assert shown in text, shown  # escaped in the markup, so the reader sees the very characters
    data = page.data()
    messages = {c.get("message") for cell in data["cells"] for c in cell["checks"]}
    assert payload in messages and "RuntimeError: " + payload in messages
    assert payload in data["strings"]  # the expected_source, stored once
    assert "torch.evil" + payload in {c["binding"] for c in data["columns"]}


def test_the_svg_is_xml_with_a_histogram_per_framework_and_dtype_that_counts_the_records(hostile):
    html = render_html(matrix_of(hostile.path))
    svg = ET.fromstring(re.search(r"<svg\b.*?</svg>", html, re.S).group(0))
    assert svg.find("title").text
    ulps: dict[tuple[str, str], list[float]] = {}
    for r in hostile.records:
        if r["status"] in COMPARED and r["max_ulp"] is not None:
            ulps.setdefault((r["framework"], r["dtype"]), []).append(float(r["max_ulp"]))
    groups = {(g.get("data-framework"), g.get("data-dtype")): g for g in svg.iter("g") if g.get("class") == "dist"}
    assert set(groups) == set(ulps)
    for key, group in groups.items():
        bars = [b for b in group.iter("rect") if b.get("class") == "bar"]
        assert int(group.get("data-total")) == sum(int(b.get("data-count")) for b in bars) == len(ulps[key])
        for bar in bars:
            lo, hi = float(bar.get("data-lo")), float(bar.get("data-hi"))
            expected = sum(1 for u in ulps[key] if (u == math.inf if lo == math.inf else lo <= u < hi))
            assert int(bar.get("data-count")) == expected, (key, lo, hi)
        assert group.find("title").text  # what the bars say, for a reader without the picture


def test_a_definition_difference_shows_its_convention_and_is_not_a_failure(hostile):
    page = Page(render_html(matrix_of(hostile.path)))
    data = page.data()
    (entry,) = [c for c in data["cells"] if c["status"] == "definition-difference"]
    assert entry["conventions"] == ["log-clamp-100"]
    classes = [a["class"] for a in page.cells() if int(a["data-i"]) == data["cells"].index(entry)]
    assert classes == ["c s-definition-difference"]
    assert "definition-difference" in entry["text"] and "fail" not in entry["text"]


def test_the_framework_table_names_the_worst_case_of_each_framework(hostile):
    html = render_html(matrix_of(hostile.path))
    summary = re.search(r"<table class=summary>.*?</table>", html, re.S).group(0)
    rows = Page(summary)
    for framework in {r["framework"] for r in hostile.records}:
        ran = [r for r in hostile.records if r["framework"] == framework and r["status"] in COMPARED]
        worst = max(ran, key=lambda r: float(r["max_ulp"]))
        label = f"{worst['op']}[{worst['case']}]" + (" (gradient)" if worst["quantity"] == "grad" else "")
        assert any(label in chunk for chunk in rows.text), (framework, label)


def test_an_aggregated_cell_has_its_stats_its_worst_case_and_a_capped_list(tmp_path, make_record, write_results):
    ulps = [0.5 * i for i in range(CHECKS_PER_CELL + 7)]
    records = [make_record(f"c{i}", "torch", "torch.loss", "float32", ulp=u, over=u / 1000) for i, u in enumerate(ulps)]
    records.append(make_record("bad", "torch", "torch.loss", "float32", status="fail", ulp=1e4, over=9.0))
    path = write_results(tmp_path / "r.jsonl", records, {"torch": "2.0"})
    (entry,) = Page(render_html(matrix_of(path, rows="op"))).data()["cells"]
    assert entry["n"] == len(records) and len(entry["checks"]) == CHECKS_PER_CELL
    assert entry["checks"][0]["case"] == "sigmoid_cross_entropy[bad]" and entry["checks"][0]["status"] == "fail"
    assert entry["counts"] == {"pass": len(ulps), "fail": 1}
    assert float(entry["ulp"]["max"]) == 1e4 and entry["ulp"]["worst"] == "sigmoid_cross_entropy[bad]"
    assert entry["ulp"]["n"] == len(records)
    overs = [float(c["err_over_bound"]) for c in entry["checks"][1:]]
    assert overs == sorted(overs, reverse=True)  # worst first
