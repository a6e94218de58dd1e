"""The exact requests that stock Backbone.sync (1.x) and jQuery (3.x) send.

Backbone.sync: JSON bodies with `Content-Type: application/json`; `emulateHTTP`
turns PUT/PATCH/DELETE into POST with `X-HTTP-Method-Override` (and a `_method`
field with `emulateJSON`); `emulateJSON` sends `application/x-www-form-urlencoded`
with `model=<json>`. `collection.fetch({data: ...})` goes through jQuery's `$.param`,
which writes nested objects in bracket form; `cache: false` adds `_=<timestamp>`.

The writes (CRUD, emulateHTTP, emulateJSON) run in process, in
Tests/BackboneSSETests/BackboneShapesTests.swift. The queries stay here: their
results and order are the store's, and this file runs on MongoDB too.
"""

import json
import re
import time
from urllib.parse import quote

import pytest

from conftest import ServerFactory, unique

# Headers jQuery's $.ajax adds to every Backbone request.
JQ = {"Accept": "application/json, text/javascript, */*; q=0.01", "X-Requested-With": "XMLHttpRequest"}


def encode_uri_component(s):
    return quote(s, safe="-_.!~*'()")


def js_string(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return ""
    return str(v)


def jquery_param(obj):
    """jQuery 3's `$.param(obj)` (traditional = false)."""
    out = []

    def add(key, value):
        out.append(encode_uri_component(key) + "=" + encode_uri_component(js_string(value)))

    def build(prefix, value):
        if isinstance(value, list):
            for i, v in enumerate(value):
                if prefix.endswith("[]"):
                    add(prefix, v)
                else:
                    build(f"{prefix}[{i if isinstance(v, (dict, list)) else ''}]", v)
        elif isinstance(value, dict):
            for k, v in value.items():
                build(f"{prefix}[{k}]", v)
        else:
            add(prefix, value)

    for k, v in obj.items():
        build(k, v)
    return "&".join(out)


def test_jquery_param_matches_jquery():
    # Reference strings, as jQuery 3.7 writes them in a browser.
    assert jquery_param({"where": {"priority": {"$gte": 2}}}) == "where%5Bpriority%5D%5B%24gte%5D=2"
    assert jquery_param({"where": {"tags": {"$in": ["a", "b"]}}}) == \
        "where%5Btags%5D%5B%24in%5D%5B%5D=a&where%5Btags%5D%5B%24in%5D%5B%5D=b"
    assert jquery_param({"where": {"$or": [{"done": True}, {"priority": 3}]}}) == \
        "where%5B%24or%5D%5B0%5D%5Bdone%5D=true&where%5B%24or%5D%5B1%5D%5Bpriority%5D=3"
    assert jquery_param({"model": '{"a": 1}'}) == "model=%7B%22a%22%3A%201%7D"


def fetch(srv, data=None, path="/todos", cache=True):
    """`collection.fetch({data})`: a GET with `$.param(data)` as the query."""
    qs = jquery_param(data or {})
    if not cache:
        qs = (qs + "&" if qs else "") + "_=" + str(int(time.time() * 1000))
    r = srv.get(path + ("?" + qs if qs else ""), headers=JQ)
    return r


def titles(r):
    assert r.status_code == 200, r.text
    return [d["title"] for d in r.json()]


def names(r):
    assert r.status_code == 200, r.text
    return [d["name"] for d in r.json()]


# --- queries: a dedicated server with a known data set ---------------------------

TODOS = [
    # title,     done,  priority, tags
    ("alpha", False, 1, ["a"]),
    ("bravo", True, 2, ["b"]),
    ("charlie", False, 3, ["a", "b"]),
    ("delta", True, 4, ["c"]),
    ("echo", False, 5, []),
    ("foxtrot", False, None, ["a"]),
]
LISTS = [
    {"name": "l1", "owner": {"name": "ann", "age": 30}},
    {"name": "l2", "owner": {"name": "bob", "age": 50}},
    {"name": "l3", "owner": {"name": "ann", "age": 40}},
    {"name": "l4"},
]


@pytest.fixture(scope="module")
def qs(session_dir):
    f = ServerFactory(session_dir)
    srv = f()
    for title, done, priority, tags in TODOS:
        doc = {"title": title, "done": done, "tags": tags, "slug": "s-" + title}
        if priority is not None:
            doc["priority"] = priority
        srv.create(**doc)
        time.sleep(0.003)  # distinct `created` milliseconds
    for doc in LISTS:
        srv.create("lists", **doc)
    yield srv
    f.stop_all()


ALL = [t[0] for t in TODOS]


def test_fetch_everything(qs):
    assert titles(fetch(qs)) == ALL  # insertion order without a sort


@pytest.mark.parametrize("data,expected", [
    ({"where": {"priority": {"$gte": 2}}}, ["bravo", "charlie", "delta", "echo"]),
    ({"where": {"priority": {"$gt": 2, "$lte": 4}}}, ["charlie", "delta"]),
    ({"where": {"priority": {"$lt": 3}}}, ["alpha", "bravo"]),
    ({"where": {"tags": {"$in": ["a", "b"]}}}, ["alpha", "bravo", "charlie", "foxtrot"]),
    ({"where": {"tags": {"$in": ["c"]}}}, ["delta"]),
    ({"where": {"tags": {"$nin": ["a"]}}}, ["bravo", "delta", "echo"]),
    ({"where": {"priority": {"$in": [1, 5]}}}, ["alpha", "echo"]),
    ({"where": {"$or": [{"done": True}, {"priority": 3}]}}, ["bravo", "charlie", "delta"]),
    ({"where": {"$and": [{"done": False}, {"tags": "a"}]}}, ["alpha", "charlie", "foxtrot"]),
    ({"where": {"done": False}}, ["alpha", "charlie", "echo", "foxtrot"]),
    ({"where": {"done": {"$ne": False}}}, ["bravo", "delta"]),
    ({"where": {"priority": {"$exists": False}}}, ["foxtrot"]),
    ({"where": {"priority": {"$exists": True}}}, ["alpha", "bravo", "charlie", "delta", "echo"]),
    ({"where": {"priority": 3}}, ["charlie"]),
    ({"where": {"title": "delta"}}, ["delta"]),
    ({"query": {"priority": {"$gte": 4}}}, ["delta", "echo"]),
    # MongoDB semantics: a missing field satisfies $ne and $nin.
    ({"where": {"priority": {"$ne": 3}}}, ["alpha", "bravo", "delta", "echo", "foxtrot"]),
    ({"where": {"priority": {"$nin": [1, 2]}}}, ["charlie", "delta", "echo", "foxtrot"]),
    ({"where": {"tags": {"$ne": "a"}}}, ["bravo", "delta", "echo"]),
    ({"where": {"tags": {"$eq": "b"}}}, ["bravo", "charlie"]),
    ({"where": {"title": {"$gt": "d"}}}, ["delta", "echo", "foxtrot"]),
    ({"where": {"title": {"$gte": "b", "$lt": "d"}}}, ["bravo", "charlie"]),
    ({"where": {"_v": 1}}, ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"]),
    ({"where": {"_v": {"$gt": 1}}}, []),
    ({"where": {"slug": {"$in": ["s-echo", "s-alpha"]}}}, ["alpha", "echo"]),
    ({"_v": 1, "done": True}, ["bravo", "delta"]),
    ({"done": False}, ["alpha", "charlie", "echo", "foxtrot"]),
    ({"done": True}, ["bravo", "delta"]),
    ({"priority": 2}, ["bravo"]),
    ({"tags": "a"}, ["alpha", "charlie", "foxtrot"]),
    ({"tags": "b", "done": True}, ["bravo"]),
    ({"title": "echo"}, ["echo"]),
    ({"done": False, "where": {"priority": {"$gte": 3}}}, ["charlie", "echo"]),
])
def test_bracket_form_filters(qs, data, expected):
    assert titles(fetch(qs, data)) == expected


def test_the_exact_query_strings_of_the_brief(qs):
    cases = {
        "where[priority][$gte]=2": ["bravo", "charlie", "delta", "echo"],
        "where[tags][$in][]=a&where[tags][$in][]=b": ["alpha", "bravo", "charlie", "foxtrot"],
        "where[$or][0][done]=true&where[$or][1][priority]=3": ["bravo", "charlie", "delta"],
        "done=false": ["alpha", "charlie", "echo", "foxtrot"],
        "tags=a": ["alpha", "charlie", "foxtrot"],
        "done=false&_=12345": ["alpha", "charlie", "echo", "foxtrot"],
        "_=12345": ALL,
    }
    for query, expected in cases.items():
        assert titles(qs.get("/todos?" + query)) == expected, query
        # and percent-encoded, as $.param writes it
        encoded = "&".join(
            "=".join(encode_uri_component(p) for p in pair.split("=", 1)) for pair in query.split("&"))
        assert titles(qs.get("/todos?" + encoded)) == expected, encoded


@pytest.mark.parametrize("where,expected", [
    ({"priority": {"$gte": 2}}, ["bravo", "charlie", "delta", "echo"]),
    ({"done": False, "priority": {"$lt": 3}}, ["alpha"]),
    ({"$or": [{"done": True}, {"priority": 3}]}, ["bravo", "charlie", "delta"]),
    ({"tags": "b"}, ["bravo", "charlie"]),
    ({"tags": {"$in": ["c", "zzz"]}}, ["delta"]),
    # A JSON where keeps its own types: the string "3" is not the integer 3.
    ({"priority": "3"}, []),
    ({"done": "false"}, []),
    # Whole-array equality, and element equality.
    ({"tags": ["a", "b"]}, ["charlie"]),
    ({"tags": ["b", "a"]}, []),
    ({"tags": []}, ["echo"]),
    ({"priority": None}, ["foxtrot"]),
])
def test_where_as_json(qs, where, expected):
    assert titles(qs.get("/todos", params={"where": json.dumps(where)})) == expected
    assert titles(qs.get("/todos", params={"query": json.dumps(where)})) == expected


def test_created_range_query(qs):
    docs = qs.get("/todos", params={"sort": "created"}).json()
    third = docs[2]["created"]
    assert titles(fetch(qs, {"where": {"created": {"$gte": third}}})) == ["charlie", "delta", "echo", "foxtrot"]
    assert titles(qs.get("/todos", params={"where": json.dumps({"created": {"$lt": third}})})) == ["alpha", "bravo"]


def test_equality_by_id(qs):
    docs = qs.get("/todos").json()
    assert titles(qs.get("/todos", params={"id": docs[3]["id"]})) == ["delta"]
    assert titles(fetch(qs, {"where": {"id": {"$in": [docs[0]["id"], docs[5]["id"]]}}})) == ["alpha", "foxtrot"]


def test_cache_buster_is_ignored(qs):
    with_buster = titles(fetch(qs, {"where": {"done": True}}, cache=False))
    assert with_buster == ["bravo", "delta"]
    assert titles(qs.get("/todos?_=12345")) == ALL


@pytest.mark.parametrize("data,expected", [
    ({"sort": "-created,title"}, list(reversed(ALL))),
    ({"sort": "created"}, ALL),
    ({"sort": "title"}, sorted(ALL)),
    ({"sort": "-title"}, sorted(ALL, reverse=True)),
    ({"sort": "-done,title"}, ["bravo", "delta", "alpha", "charlie", "echo", "foxtrot"]),
    ({"sort": "done,-priority"}, ["echo", "charlie", "alpha", "foxtrot", "delta", "bravo"]),
    ({"sort": {"priority": -1}}, ["echo", "delta", "charlie", "bravo", "alpha", "foxtrot"]),
    ({"sort": {"priority": 1}}, ["foxtrot", "alpha", "bravo", "charlie", "delta", "echo"]),
    ({"sort": {"done": -1, "title": 1}}, ["bravo", "delta", "alpha", "charlie", "echo", "foxtrot"]),
])
def test_sort(qs, data, expected):
    assert titles(fetch(qs, data)) == expected


def test_sort_bracket_form_literal(qs):
    assert titles(qs.get("/todos?sort[priority]=-1"))[:5] == ["echo", "delta", "charlie", "bravo", "alpha"]
    assert titles(qs.get("/todos?sort=-created,title")) == list(reversed(ALL))


def test_limit_and_skip(qs):
    r = fetch(qs, {"sort": "title", "limit": 2})
    assert titles(r) == ["alpha", "bravo"]
    assert r.headers["X-Total-Count"] == "6"
    assert 'rel="next"' in r.headers["Link"]
    r = fetch(qs, {"sort": "title", "limit": 2, "skip": 2})
    assert titles(r) == ["charlie", "delta"]
    assert r.headers["X-Total-Count"] == "6"
    r = fetch(qs, {"sort": "title", "limit": 2, "skip": 4})
    assert titles(r) == ["echo", "foxtrot"]
    assert 'rel="next"' not in r.headers.get("Link", "")
    r = fetch(qs, {"sort": "title", "skip": 10})
    assert titles(r) == []
    # filter + paging: the total is the filtered count
    r = fetch(qs, {"done": False, "sort": "-title", "limit": 1})
    assert titles(r) == ["foxtrot"]
    assert r.headers["X-Total-Count"] == "4"


def test_untruncated_list_has_no_paging_headers(qs):
    r = fetch(qs, {"limit": 100})
    assert len(r.json()) == 6
    assert "Link" not in r.headers
    assert r.headers.get("X-Total-Count") in (None, "6")


def test_following_link_next_pages_through_everything(qs):
    seen = []
    url = "/todos?" + jquery_param({"sort": "title", "limit": 4, "_": 999})
    pages = 0
    while url:
        r = qs.get(url)
        assert r.status_code == 200, r.text
        seen += titles(r)
        pages += 1
        m = re.search(r'<([^>]+)>;\s*rel="next"', r.headers.get("Link", ""))
        url = m.group(1) if m else None
        if url and url.startswith("http"):
            url = url.split(str(qs.port), 1)[1]
        assert pages < 10
    assert seen == sorted(ALL) and pages == 2


def test_link_next_keeps_a_bracket_form_filter(qs):
    r = fetch(qs, {"where": {"priority": {"$gte": 2}}, "sort": "-title", "limit": 3, "_": 1})
    assert titles(r) == ["echo", "delta", "charlie"]
    assert r.headers["X-Total-Count"] == "4"
    m = re.search(r'<([^>]+)>;\s*rel="next"', r.headers["Link"])
    assert m, r.headers["Link"]
    r2 = qs.get(m.group(1))
    assert titles(r2) == ["bravo"]
    assert r2.headers["X-Total-Count"] == "4"
    m = re.search(r'<([^>]+)>;\s*rel="prev"', r2.headers["Link"])
    assert m, r2.headers["Link"]
    assert titles(qs.get(m.group(1))) == ["echo", "delta", "charlie"]


@pytest.mark.parametrize("query,expected", [
    ({"where": json.dumps({"owner.name": "ann"})}, ["l1", "l3"]),
    ({"where": json.dumps({"owner.age": {"$gt": 35}})}, ["l2", "l3"]),
    ({"where": json.dumps({"owner.name": {"$exists": False}})}, ["l4"]),
    ({"where": json.dumps({"$or": [{"owner.name": "bob"}, {"name": "l4"}]})}, ["l2", "l4"]),
    ({"owner.name": "ann"}, ["l1", "l3"]),
    ({"where[owner.name]": "bob"}, ["l2"]),
    ({"sort": "-owner.age", "where": json.dumps({"owner.age": {"$exists": True}})}, ["l2", "l3", "l1"]),
])
def test_dotted_paths_in_nested_objects(qs, query, expected):
    assert names(qs.get("/lists", params=query)) == expected


def test_query_string_values_on_untyped_fields(qs):
    # No schema: a JSON where keeps its types; a query-string value matches the string
    # or the JSON literal it spells, so `owner.age=30` finds the number 30.
    assert names(qs.get("/lists", params={"where": json.dumps({"owner.age": 30})})) == ["l1"]
    assert names(qs.get("/lists", params={"where": json.dumps({"owner.age": "30"})})) == []
    assert names(qs.get("/lists", params={"owner.age": "30"})) == ["l1"]
    assert names(qs.get("/lists?where[owner.age][$gt]=35")) == ["l2", "l3"]
    assert names(qs.get("/lists", params={"name": "l2"})) == ["l2"]


# --- --max-limit -----------------------------------------------------------------


def test_limit_above_max_limit_is_capped(small_limit_server):
    srv = small_limit_server
    batch = unique("batch")
    for i in range(8):
        srv.create("lists", name=f"n{i}", batch=batch)
    r = srv.get("/lists", params={"batch": batch, "limit": "100", "sort": "name"})
    assert r.status_code == 200
    assert names(r) == [f"n{i}" for i in range(5)]
    assert r.headers["X-Total-Count"] == "8"
    link = r.headers["Link"]
    m = re.search(r'<([^>]+)>;\s*rel="next"', link)
    assert m, link
    r2 = srv.get(m.group(1))
    assert names(r2) == ["n5", "n6", "n7"]
    assert r2.headers["X-Total-Count"] == "8"
    assert 'rel="next"' not in r2.headers.get("Link", "")
    assert 'rel="prev"' in r2.headers.get("Link", "")
    # The default page is --max-limit too.
    r3 = srv.get("/lists", params={"batch": batch, "sort": "name"})
    assert names(r3) == [f"n{i}" for i in range(5)]
    assert r3.headers["X-Total-Count"] == "8"
    assert 'rel="next"' in r3.headers["Link"]
