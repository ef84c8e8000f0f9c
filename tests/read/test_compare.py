"""/compare: a column per code, a row per summary fact, differences marked; CSV and JSON; presets; bad input."""

from __future__ import annotations

import csv
import io
import re

import pytest

from kgapp.read.summary import LAYOUT, code_summary

RECONSTRUCTION = "/compare?code=64864&code=64866&code=64868"


def test_table_has_a_column_per_code_and_a_row_per_fact(client):
    r = client.get(RECONSTRUCTION)
    assert r.status_code == 200 and r.content_type.startswith("text/html")
    page = r.get_data(as_text=True)
    assert "<title>Compare CPT 64864, CPT 64866, CPT 64868 · kgapp</title>" in page
    head = page.split("<thead>", 1)[1].split("</thead>", 1)[0]
    assert re.findall(r'<a href="/id/code/cpt/(\d+)">CPT \1</a>', head) == ["64864", "64866", "64868"]
    rows = re.findall(r'<tr class="(differs|same)" id="row-([a-z-]+)">', page)
    assert [key for _, key in rows] == [key for key, _, _ in LAYOUT]
    marks = dict((key, kind) for kind, key in rows)
    assert marks["global"] == "same"  # 90 days for all three
    assert marks["nerves"] == marks["type"] == marks["places"] == "differs"
    assert page.count('<span class="differs-tag">differs</span>') == list(marks.values()).count("differs") + 1  # + legend


def test_cells_are_the_summaries_values(client, store):
    data = client.get(RECONSTRUCTION + "&format=json").get_json()
    for column in data["codes"]:
        s = code_summary(store, column["iri"])
        for fact in data["facts"]:
            assert [v["value"] for v in fact["values"][column["code"]]] == [v.value for v in s.fact(fact["key"]).values]


def test_json_by_accept_and_by_format(client):
    by_accept = client.get(RECONSTRUCTION, headers={"Accept": "application/json"})
    by_param = client.get(RECONSTRUCTION + "&format=json")
    assert by_accept.content_type == by_param.content_type == "application/json"
    assert by_accept.get_json() == by_param.get_json()
    data = by_param.get_json()
    assert [c["code"] for c in data["codes"]] == ["64864", "64866", "64868"]
    nerves = next(f for f in data["facts"] if f["key"] == "nerves")
    assert nerves["differs"] is True
    assert [v["text"] for v in nerves["values"]["64868"]] == ["facial nerve (CN VII)", "hypoglossal nerve (CN XII)"]
    places = next(f for f in data["facts"] if f["key"] == "places")
    assert any(v["kgapp_reading"] for v in places["values"]["64868"]) and all(v["sources"] for v in places["values"]["64868"])
    modifiers = next(f for f in data["facts"] if f["key"] == "modifiers")
    assert "bilateral surgery indicator 0" in modifiers["values"]["64868"][0]["conflicts"][0]


def test_csv_by_accept_and_by_format(client):
    by_accept = client.get(RECONSTRUCTION, headers={"Accept": "text/csv"})
    by_param = client.get(RECONSTRUCTION + "&format=csv")
    assert by_accept.content_type.startswith("text/csv") and by_accept.data == by_param.data
    rows = list(csv.reader(io.StringIO(by_param.get_data(as_text=True))))
    assert rows[0] == ["fact", "differs", "64864", "64866", "64868"]
    assert [r[0] for r in rows[1:]] == [label for _, label, _ in LAYOUT]
    glob = next(r for r in rows if r[0] == "Global period")
    assert glob[1] == "no" and glob[2].startswith("90 days")


def test_home_and_code_pages_link_the_presets(client):
    home = client.get("/").get_data(as_text=True)
    assert 'href="/compare?code=64864&amp;code=64866&amp;code=64868"' in home
    assert 'href="/compare?code=64600&amp;code=64612"' in home
    assert 'href="/compare?code=64600&amp;code=64612"' in client.get("/id/code/cpt/64612").get_data(as_text=True)


def test_codes_may_come_in_one_field(client):
    page = client.get("/compare?code=64600+64612").get_data(as_text=True)
    assert re.findall(r'<a href="/id/code/cpt/(\d+)">CPT', page) == ["64600", "64612"]


@pytest.mark.parametrize("query,status", [
    ("", 200), ("?code=99999", 404), ("?code=64868&code=nope", 200), ("?code=%3Cscript%3E", 404),
    ("?code=" + "6" * 5000, 404), ("?code=64868&code=64868", 200), ("?code=64868\" OR 1", 404),
])
def test_bad_input_never_500s_and_is_escaped(client, query, status):
    r = client.get("/compare" + query)
    assert r.status_code == status
    page = r.get_data(as_text=True)
    assert "<script>" not in page.split("</header>", 1)[1]


def test_unknown_codes_are_named_and_duplicates_dropped(client):
    page = client.get("/compare?code=64868&code=64868&code=12345").get_data(as_text=True)
    assert "Not a procedure code of this graph: 12345." in page
    assert len(re.findall(r'<a href="/id/code/cpt/64868">CPT 64868</a>', page)) == 1
    data = client.get("/compare?code=12345&format=json")
    assert data.status_code == 404 and data.get_json()["unknown"] == ["12345"]
