import datetime as dt
import math
import uuid
from decimal import Decimal
from fractions import Fraction

import pytest

from datahike import edn
from datahike.edn import (BigInt, Char, FrozenDict, Keyword as K, List, Symbol as S, Tagged,
                          dumps, loads)


@pytest.mark.parametrize("text,value", [
    ("nil", None), ("true", True), ("false", False), ("42", 42), ("-7", -7),
    ("1.5", 1.5), ('"a\\"b\\\\c\\n\\t\\u00e9"', 'a"b\\c\n\té'), (":a/b", K("a/b")),
    ("?x", S("?x")), ("[1 [2]]", [1, [2]]), ("{:a 1}", {K("a"): 1}),
    ("#{1 2}", {1, 2}), ("1.25M", Decimal("1.25")), ("12345678901234567890N",
                                                     BigInt(12345678901234567890)),
    ("1/3", Fraction(1, 3)), ("\\a", Char("a")), ("\\newline", Char("\n")),
    ('#uuid "6ba7b810-9dad-11d1-80b4-00c04fd430c8"',
     uuid.UUID("6ba7b810-9dad-11d1-80b4-00c04fd430c8")),
    ('#inst "2024-01-02T03:04:05.678-00:00"',
     dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=dt.timezone.utc)),
    ("(a b)", List([S("a"), S("b")])),
])
def test_read_and_round_trip(text, value):
    v = loads(text)
    assert v == value
    assert type(v) is type(value)
    assert loads(dumps(v)) == value


def test_composite_keys_and_sets():
    v = loads("{[1 2] :vec, {:a 1} :map, #{1} :set, #{[1 2] [3 4]} :nested}")
    assert v[(1, 2)] == K("vec")
    assert v[FrozenDict({K("a"): 1})] == K("map")
    assert v[frozenset({1})] == K("set")
    assert v[frozenset({(1, 2), (3, 4)})] == K("nested")
    assert loads(dumps(v)) == v
    assert loads("#{[1 [2 3]] {:a [1]}}") == {(1, (2, 3)), FrozenDict({K("a"): (1,)})}


def test_comments_discard_whitespace():
    assert loads("; c\n [1 #_ 2 , 3 #_[4 5]] ; end") == [1, 3]
    assert loads('#_ #_ 1 2 "x"') == "x"


def test_specials_and_tagged():
    assert math.isnan(loads("##NaN")) and loads("##Inf") == math.inf and loads("##-Inf") == -math.inf
    assert dumps(math.inf) == "##Inf"
    t = loads("#my/tag [1]")
    assert t == Tagged("my/tag", [1]) and dumps(t) == "#my/tag [1]"


def test_keyword():
    k = K(":person/name")
    assert k == K("person/name") == K("name", "person") == ":person/name"
    assert str(k) == ":person/name" and k.name == "name" and k.namespace == "person"
    assert k.value == "person/name" and k.to_edn() == ":person/name"
    assert hash(k) == hash(K("person/name"))
    assert {k: 1}[K("person/name")] == 1
    assert K("a").namespace is None
    assert S("x") != K("x") and S("a/b").namespace == "a"


def test_printer():
    assert dumps({"name": "x", K("k"): [1, (2, 3)], 5: {1}}) == '{:name "x" :k [1 [2 3]] 5 #{1}}'
    assert dumps(2 ** 64) == "18446744073709551616N"
    assert dumps(dt.date(2024, 1, 2)) == '#inst "2024-01-02T00:00:00.000Z"'
    assert dumps(edn.string("key")) == '"<STRING>key"'
    assert dumps({edn.string("key"): 1}) == '{"key" 1}'
    assert dumps("\x01") == '"\\u0001"'
    assert loads(dumps("\x01\x7f")) == "\x01\x7f"
    assert dumps(Char(" ")) == "\\space"
    with pytest.raises(TypeError):
        dumps(object())
    with pytest.raises(TypeError):
        dumps(b"bytes")


@pytest.mark.parametrize("bad", ["[1 2", "{:a}", "\"abc", "#{1 1}", "{:a 1 :a 2}", ")", "1 2",
                                 "#uuid \"nope\"", "\\", "##Foo", "1/0", "", ":", "#inst 5"])
def test_malformed(bad):
    with pytest.raises(edn.EdnError):
        loads(bad)


# ---- the C++ reader and printer (src/native/edn_values.cc) on the rarer paths


def test_strings_chars_and_bytes():
    assert loads('"\\ud83d\\ude00 \\u00e9 \\/"') == "\U0001F600 é /"
    assert loads('"\\ud800"') == "\ud800"  # a lone surrogate escape stays one
    assert loads(b'[1 "\xc3\xa9"]') == [1, "é"] and loads(bytearray(b":a")) == K("a")
    assert [loads(t) for t in ("\\(", "\\é", "\\u0041", "\\tab")] == ["(", "é", "A", "\t"]
    assert all(type(loads(t)) is Char for t in ("\\(", "\\é", "\\u0041", "\\tab"))
    assert dumps([Char("\n"), Char("é"), Char("\x01")]) == "[\\newline \\é \\u0001]"
    with pytest.raises(TypeError):
        loads(5)


def test_keywords_are_shared_str_subclass_instances():
    a, b = loads("[:person/name :person/name]")
    assert a is b and type(a) is K and a == ":person/name" and a.namespace == "person"


def test_numbers():
    assert loads("[+5 0123 -9223372036854775808 9223372036854775808 1. 1e5 -1.5E-3 1e5M -2/4]") == [
        5, 123, -2 ** 63, 2 ** 63, 1.0, 1e5, -1.5e-3, Decimal("1e5"), Fraction(-1, 2)]
    assert dumps([2 ** 63 - 1, -2 ** 63, -2 ** 63 - 1, 0.1 + 0.2, 1e16]) == (
        "[9223372036854775807 -9223372036854775808 -9223372036854775809N 0.30000000000000004 1e+16]")
    for bad in ("1.5N", "1e", "1x", "1/2/3", "1/"):
        with pytest.raises(edn.EdnError):
            loads(bad)


def test_instants():
    utc = dt.timezone.utc
    assert loads('#inst "2024-01-02T03:04:05Z"') == dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=utc)
    assert loads('#inst "2024-01-02T03:04:05.123456789Z"') == dt.datetime(
        2024, 1, 2, 3, 4, 5, 123456, tzinfo=utc)
    assert loads('#inst "2024-01-02T03:04:05+02:00"') == dt.datetime(2024, 1, 2, 1, 4, 5, tzinfo=utc)
    assert loads('#inst "2024-01-02"') == dt.datetime(2024, 1, 2, tzinfo=utc)
    with pytest.raises(ValueError):
        loads('#inst "2024-13-02T03:04:05Z"')


def test_frozen_shapes_inside_sets_and_keys():
    v = loads("#{[1 (a b) {:k #{2}}]}")
    (t,) = v
    assert type(t) is tuple and type(t[1]) is edn.FrozenList and type(t[2]) is FrozenDict
    assert type(t[2][K("k")]) is frozenset
    assert type(loads("{:a [1]}")[K("a")]) is list


def test_nesting_too_deep_is_a_recursion_error():
    for text in ("[" * 100000, "#t " * 100000 + "1", "#_ " * 100000 + "1", "#{" * 100000):
        with pytest.raises(RecursionError):
            loads(text)
    cyclic = []
    cyclic.append(cyclic)
    with pytest.raises(RecursionError):
        dumps(cyclic)


def test_pydatahike_rules_print_natively():
    from datahike._rules import key_to_keyword, value_to_edn
    assert value_to_edn({"a": [":k", "\\:s", edn.string(":t"), "x", 1.5, None, (1,)],
                         edn.FrozenList([1]): {1}}) == '{:a [:k ":s" ":t" "x" 1.5 nil [1]] [1] #{1}}'
    assert key_to_keyword("db/id") == ":db/id" and key_to_keyword(edn.string("k")) == '"k"'
