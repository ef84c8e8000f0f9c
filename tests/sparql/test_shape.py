"""Judgements of a query's structure are remembered per shape (its strings aside) and are what judging its text gives."""

from __future__ import annotations

import random

import pytest
from test_columnar import _random_query
from test_fast_path import BOUNDED, UNBOUNDED
from test_hashjoin import PREFIX as E_PREFIX
from test_hashjoin import _bgp

from kgapp.queries import load_queries
from kgapp.sparql.bounded import star_kind
from kgapp.sparql.columnar_query import read_plan
from kgapp.sparql.hashjoin import rewrite
from kgapp.sparql.topk import plan
from kgapp.sparql_text import _MASKED, query_form, shape

# Strings that could fool a careless mask: quotes of every kind, a comment mark, an IRI, keywords, braces.
STRINGS = ['"x"', "'y'", '""', "''", '"""two\nlines"""', "'''it''s'''", '"a # b"', '"<http://e/x>"',
           '"SERVICE { ?s ?p ?o }"', "'} ORDER BY ?x LIMIT 1 {'", '"é"', '"INSERT DATA"', "'\"'", '"\'"']
STATS = {"triples": 10**6, "properties": {f"http://e/{p}": 10**5 for p in "pqr"}, "classes": {"http://e/C": 10**5}}


def judgements(text: str, cached: bool) -> tuple:
    def call(fn, *args):
        return (fn if cached else fn.__wrapped__)(text, *args)
    top, hashed, columnar = call(plan), call(rewrite, STATS, 100), call(read_plan, None)
    return (call(query_form), call(star_kind), top and top.unordered, hashed, columnar)


def corpus() -> list[str]:
    rng = random.Random(7)
    texts = [q.text for q in load_queries()] + BOUNDED + UNBOUNDED
    texts += [_random_query(rng) for _ in range(150)] + [_bgp(rng) for _ in range(150)]
    texts += [E_PREFIX + 'SELECT ?s WHERE { ?s e:label "a" ; e:p ?o } ORDER BY ?o LIMIT 3',
              E_PREFIX + "SELECT * WHERE { ?s e:p ?x ; e:label 'v' . ?x e:q ?y } # a comment with a \" quote",
              # quotes of one kind inside strings of the other and in comments: where the strings end is the lexer's call
              E_PREFIX + "SELECT ?s WHERE { ?s e:label 'a\"' . ?s e:p ?o } # \" } ORDER BY ?o LIMIT 2\n",
              E_PREFIX + "SELECT ?s WHERE { ?s e:label 'a' . ?s e:p ?o } ORDER BY ?o LIMIT 2 # \"\n",
              E_PREFIX + 'SELECT ?s WHERE { ?s e:label "x\' } ORDER BY ?s LIMIT 2 #" . ?s e:p ?o }']
    return texts


def test_a_shape_empties_strings_and_keeps_the_rest():
    text = 'PREFIX e: <http://e/#> SELECT * { ?s e:p "a # b", \'c\' , """d""" } # "not a string"'
    assert shape(text) == 'PREFIX e: <http://e/#> SELECT * { ?s e:p "s", "s" , "s" } # "not a string"'
    assert shape('SELECT * { ?s ?p "a\\"b" }') is None  # a backslash: the lexer alone knows where strings end
    assert shape("SELECT * { ?s ?p ?o }") == "SELECT * { ?s ?p ?o }"


@pytest.mark.parametrize("seed", range(4))
def test_every_text_of_a_shape_is_judged_as_its_own_text_would_be(seed):
    rng = random.Random(seed)
    for text in corpus():
        for _ in range(3):
            variant = _MASKED.sub(lambda m: rng.choice(STRINGS) if m.lastgroup == "string" else m.group(), text)
            if shape(variant) is None:
                continue
            assert judgements(variant, cached=True) == judgements(variant, cached=False), variant


def test_what_is_built_from_the_text_is_built_from_this_text():
    first = E_PREFIX + 'SELECT ?s WHERE { ?s e:label "first" } ORDER BY ?s LIMIT 2'
    second = first.replace('"first"', '"second"')
    assert shape(first) == shape(second)
    assert '"first"' in plan(first).unordered and '"second"' in plan(second).unordered


def test_texts_whose_strings_end_elsewhere_do_not_share_a_shape():
    # Read naively (from one " to the next), these two would be the same text with different strings.
    without = E_PREFIX + "SELECT ?s WHERE { ?s e:label 'x\"' . ?s e:p ?o } # \""
    ordered = E_PREFIX + "SELECT ?s WHERE { ?s e:label 'x\"' . ?s e:p ?o } ORDER BY ?o LIMIT 2 # \""
    assert shape(without) != shape(ordered)
    assert plan(without) is None and plan(ordered) is not None
