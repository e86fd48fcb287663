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
