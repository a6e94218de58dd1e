#!/usr/bin/env python3
"""Compares the server's JSON parser with Python's `json` over a set of inputs.

    fuzz-json --print DIR... | json_oracle.py DIR...

For each file the Swift side printed `name<TAB>ok<TAB>serialization` or
`name<TAB>reject<TAB>offset`; here Python parses the same bytes, configured to the
server's contract, and the two must agree: both refuse, or both accept the same value.
Exits 1 on any disagreement, listing them.

Python is made as strict as the server (every line below is a deliberate difference
between the server's parser and a default `json.loads`):
- the bytes must be UTF-8 (`json.loads(bytes)` would also guess UTF-16/32);
- a repeated member name is refused (Python keeps the last one), names compared as
  code points (the server compares them so too, not as canonically equivalent text);
- NaN, Infinity and -Infinity are refused (Python reads them);
- a number whose double is infinite, or zero from nonzero digits (underflow), is
  refused (Python gives inf and 0.0);
- an integer beyond Int64 is a double on the server (Python keeps every digit): the
  values agree when Python's integer, rounded to a double, is the server's double;
- a string holding a lone surrogate escape (`"\\ud800"`) is refused (Python keeps it);
- nesting deeper than 128 arrays and objects is refused (Python allows ~1000).
"""
import json
import math
import os
import sys

MAX_DEPTH = 128
INT64 = range(-(2**63), 2**63)


class Refused(Exception):
    pass


def no_duplicates(pairs):
    names = [k for k, _ in pairs]
    if len(set(names)) != len(names):
        raise Refused("duplicate member name")
    return pairs  # kept as a list: the server keeps members in order


def finite_float(text):
    value = float(text)
    if math.isinf(value):
        raise Refused("number out of range")
    mantissa = text.lower().split("e")[0]
    if value == 0 and any(c in "123456789" for c in mantissa):
        raise Refused("number underflows")
    return value


def int64_or_double(text):
    value = int(text)
    if value in INT64:
        return value
    try:
        return finite_float(text)  # the server's Double(text), correctly rounded
    except OverflowError as e:
        raise Refused("number out of range") from e


def refuse_constant(name):
    raise Refused(f"{name} is not JSON")


def check(value, depth=0):
    """Refuses what the hooks cannot see: depth and lone surrogates."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as e:
            raise Refused("lone surrogate") from e
    elif isinstance(value, Obj):
        if depth + 1 > MAX_DEPTH:
            raise Refused("too deep")
        for k, v in value.pairs:
            check(k)
            check(v, depth + 1)
    elif isinstance(value, list):
        if depth + 1 > MAX_DEPTH:
            raise Refused("too deep")
        for v in value:
            check(v, depth + 1)


class Obj:
    """An object as its ordered members (a dict would hide the order)."""

    def __init__(self, pairs):
        self.pairs = pairs


def loads(data):
    text = data.decode("utf-8")  # strict: invalid UTF-8 raises
    value = json.loads(
        text,
        object_pairs_hook=lambda pairs: Obj(no_duplicates(pairs)),
        parse_float=finite_float,
        parse_int=int64_or_double,
        parse_constant=refuse_constant,
    )
    check(value)
    return value


def python_verdict(data):
    try:
        return loads(data)
    except (Refused, ValueError, RecursionError, UnicodeDecodeError) as e:
        return Refused(str(e))


def same(a, b):
    """Equal values of equal types; a double's zero keeps its sign."""
    if isinstance(a, Obj) and isinstance(b, Obj):
        return len(a.pairs) == len(b.pairs) and all(
            ka == kb and same(va, vb) for (ka, va), (kb, vb) in zip(a.pairs, b.pairs))
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b)
    return a == b


def main(directories):
    sys.set_int_max_str_digits(0)
    sys.setrecursionlimit(10000)
    disagreements = []
    seen = 0
    for line in sys.stdin.buffer.read().split(b"\n"):
        if not line:
            continue
        name, verdict, rest = line.decode("utf-8").split("\t", 2)
        path = next((os.path.join(d, name) for d in directories if os.path.exists(os.path.join(d, name))), None)
        if path is None:
            continue
        with open(path, "rb") as f:
            data = f.read()
        seen += 1
        expected = python_verdict(data)
        if verdict == "reject":
            if not isinstance(expected, Refused):
                disagreements.append(f"{path}: the server refuses, Python reads {json.dumps(data.decode('utf-8', 'replace'))[:200]}")
            continue
        if isinstance(expected, Refused):
            disagreements.append(f"{path}: the server accepts ({rest[:200]}), Python refuses: {expected}")
            continue
        try:
            ours = loads(rest.encode("utf-8"))
        except Exception as e:  # the server's own output must be strict JSON
            disagreements.append(f"{path}: the server's serialization {rest[:200]} is not strict JSON: {e}")
            continue
        if not same(ours, expected):
            disagreements.append(f"{path}: the server reads {rest[:200]}, Python a different value")
    for d in disagreements:
        print(d)
    print(f"json oracle: {seen} inputs, {len(disagreements)} disagreements")
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
