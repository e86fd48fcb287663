"""EDN values in Python: a reader (`loads`), a printer (`dumps`) and the EDN types Python lacks.

Mapping (reader -> Python, and what the printer accepts):
  nil true false         None True False
  42  42N                int, BigInt (an int subclass that prints back with N)
  1.5  ##Inf ##NaN       float
  1.5M                   decimal.Decimal
  1/3                    fractions.Fraction
  "text"                 str
  \\a \\newline          Char (a str subclass)
  :ns/name               Keyword (a str subclass equal to ":ns/name")
  ns/name ?x             Symbol
  [..]                   list (tuple inside sets and map keys)
  (..)                   List, a list subclass that prints back with parentheses
  {..}                   dict (FrozenDict inside sets and map keys)
  #{..}                  set (frozenset when nested in a set or key)
  #inst "..."            datetime.datetime (UTC)
  #uuid "..."            uuid.UUID
  #tag form              Tagged(tag, form)

The printer writes dict keys that are plain str as keywords ({"name": 1} -> {:name 1}); a key made
with string("k") stays a string. Everything else prints as the type above says.

Reading and printing run in the C++ extension (src/native/edn_values.cc), which every call of
the package uses to convert its arguments and results; this module defines the types.

The module is also pydatahike's `edn` helper module: keyword(), symbol(), uuid(), inst(), string()
and the constants of `kw`.
"""

from __future__ import annotations

import datetime as _dt
import re
import uuid as _uuid
from decimal import Decimal
from fractions import Fraction
from typing import Any, Optional

from . import _datahike

__all__ = [
    "Keyword", "Symbol", "Char", "BigInt", "List", "FrozenList", "Tagged", "FrozenDict", "Edn", "EDNType",
    "UUID", "Inst", "keyword", "symbol", "uuid", "inst", "string", "Keywords", "kw",
    "loads", "dumps", "EdnError", "STRING_MARKER",
]

STRING_MARKER = "<STRING>"


class EdnError(ValueError):
    """Malformed EDN text, or a Python value with no EDN form."""


class EDNType:
    """A value that prints itself as EDN (to_edn())."""

    value: Any

    def to_edn(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError


class Keyword(str):
    """An EDN keyword. It is the str ":ns/name" (so it hashes and compares equal to that string,
    and str() prints it), typed so that the printer writes it as a keyword.

    Keyword("name"), Keyword(":person/name"), Keyword("name", "person") (pydatahike's order).
    """

    __slots__ = ()

    def __new__(cls, name: str, namespace: Optional[str] = None) -> "Keyword":
        if not isinstance(name, str):
            raise TypeError(f"keyword name must be a str, not {type(name).__name__}")
        if name.startswith(":"):
            name = name[1:]
        if namespace:
            name = f"{namespace}/{name}"
        if not name:
            raise ValueError("empty keyword")
        return super().__new__(cls, ":" + name)

    @property
    def value(self) -> str:
        """The keyword without its colon: "ns/name"."""
        return str.__str__(self)[1:]

    @property
    def name(self) -> str:
        v = self.value
        i = v.find("/")
        return v if i <= 0 else v[i + 1:]

    @property
    def namespace(self) -> Optional[str]:
        v = self.value
        i = v.find("/")
        return None if i <= 0 else v[:i]

    def to_edn(self) -> str:
        return str.__str__(self)

    def __str__(self) -> str:
        return str.__str__(self)

    def __repr__(self) -> str:
        return f"Keyword({str.__str__(self)!r})"

    def __reduce__(self):
        return (Keyword, (str.__str__(self),))


class Symbol:
    """An EDN symbol (?e, ns/name). Symbol("assoc", "clojure.core") is pydatahike's order."""

    __slots__ = ("value",)

    def __init__(self, name: str, namespace: Optional[str] = None):
        if not isinstance(name, str) or not name:
            raise TypeError("a symbol name must be a non-empty str")
        self.value = f"{namespace}/{name}" if namespace else name

    @property
    def name(self) -> str:
        i = self.value.find("/")
        return self.value if i <= 0 else self.value[i + 1:]

    @property
    def namespace(self) -> Optional[str]:
        i = self.value.find("/")
        return None if i <= 0 else self.value[:i]

    def to_edn(self) -> str:
        return self.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Symbol) and other.value == self.value

    def __hash__(self) -> int:
        return hash(("edn-symbol", self.value))

    def __str__(self) -> str:
        return self.value

    def __repr__(self) -> str:
        return f"Symbol({self.value!r})"


class Char(str):
    """An EDN character (\\a); a one-character str."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Char({str.__str__(self)!r})"


class BigInt(int):
    """An EDN bigint (42N): an int that prints back with its N."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"BigInt({int(self)})"


class Tagged:
    """A tagged literal the reader does not know: #tag value."""

    __slots__ = ("tag", "value")

    def __init__(self, tag: str, value: Any):
        self.tag = tag
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tagged) and (self.tag, self.value) == (other.tag, other.value)

    def __hash__(self) -> int:
        return hash((self.tag, _freeze(self.value)))

    def __repr__(self) -> str:
        return f"Tagged({self.tag!r}, {self.value!r})"


class FrozenDict(dict):
    """A hashable dict, for maps inside sets and map keys."""

    __slots__ = ()

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))

    def _immutable(self, *_a, **_k):
        raise TypeError("FrozenDict is immutable")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = _immutable  # type: ignore


class List(list):
    """An EDN list, (a b c): a Python list that prints with parentheses (query clauses, rule
    calls and function expressions need them)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"List({list.__repr__(self)})"


class FrozenList(tuple):
    """An EDN list inside a set or map key."""

    __slots__ = ()


class Edn(str):
    """Raw EDN text, printed as is: Edn('#inst "2024-01-01"')."""

    __slots__ = ()


# ---- pydatahike's helper types and functions -------------------------------------------------


class _TaggedString(EDNType):
    """A value written as #<tag> "<value>"; value may be given with or without the tag."""

    tag = ""

    def __init__(self, value: str):
        value = str(value)
        if value.startswith("#" + self.tag):
            value = value[1 + len(self.tag):].strip().strip('"')
        self.value = value

    def to_edn(self) -> str:
        return f'#{self.tag} "{self.value}"'

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.value!r})"


class UUID(_TaggedString):
    """pydatahike's explicit #uuid value (the printer also takes uuid.UUID)."""

    tag = "uuid"


class Inst(_TaggedString):
    """pydatahike's explicit #inst value (the printer also takes datetime)."""

    tag = "inst"


def keyword(name: str, namespace: Optional[str] = None) -> Keyword:
    """keyword("name") -> :name; keyword("name", "person") -> :person/name."""
    return Keyword(name, namespace)


def symbol(name: str, namespace: Optional[str] = None) -> Symbol:
    return Symbol(name, namespace)


def uuid(value: str) -> UUID:
    return UUID(value)


def inst(value: str) -> Inst:
    return Inst(value)


def string(value: str) -> str:
    """A str that the pydatahike conversion rules keep a string even when it starts with ":"."""
    return STRING_MARKER + value


class Keywords:
    """Constants for common Datahike keywords (pydatahike's `kw`). Each is a Keyword, so it equals
    its ":ns/name" string and prints as a keyword. kw("ns/name") makes any other keyword."""

    DB_ID = Keyword("db/id")
    DB_IDENT = Keyword("db/ident")
    DB_VALUE_TYPE = Keyword("db/valueType")
    DB_CARDINALITY = Keyword("db/cardinality")
    DB_DOC = Keyword("db/doc")
    DB_UNIQUE = Keyword("db/unique")
    DB_IS_COMPONENT = Keyword("db/isComponent")
    DB_NO_HISTORY = Keyword("db/noHistory")
    DB_INDEX = Keyword("db/index")
    DB_FULLTEXT = Keyword("db/fulltext")
    STRING = Keyword("db.type/string")
    BOOLEAN = Keyword("db.type/boolean")
    LONG = Keyword("db.type/long")
    BIGINT = Keyword("db.type/bigint")
    FLOAT = Keyword("db.type/float")
    DOUBLE = Keyword("db.type/double")
    BIGDEC = Keyword("db.type/bigdec")
    INSTANT = Keyword("db.type/instant")
    UUID_TYPE = Keyword("db.type/uuid")
    KEYWORD_TYPE = Keyword("db.type/keyword")
    SYMBOL_TYPE = Keyword("db.type/symbol")
    REF = Keyword("db.type/ref")
    BYTES = Keyword("db.type/bytes")
    TUPLE = Keyword("db.type/tuple")
    ONE = Keyword("db.cardinality/one")
    MANY = Keyword("db.cardinality/many")
    UNIQUE_VALUE = Keyword("db.unique/value")
    UNIQUE_IDENTITY = Keyword("db.unique/identity")
    TX = Keyword("db/tx")
    TX_INSTANT = Keyword("db/txInstant")
    SCHEMA_READ = Keyword("read")
    SCHEMA_WRITE = Keyword("write")

    def __call__(self, name: str, namespace: Optional[str] = None) -> Keyword:
        return Keyword(name, namespace)


kw = Keywords()


# ---- reading and printing: the C++ extension (src/native/edn_values.cc) does both ----------------

_CHAR_NAMES = {"newline": "\n", "space": " ", "tab": "\t", "return": "\r",
               "backspace": "\b", "formfeed": "\f"}


def _freeze(v: Any) -> Any:
    """The hashable form of a value: lists become tuples, dicts FrozenDicts, sets frozensets."""
    if isinstance(v, List):
        return FrozenList(_freeze(x) for x in v)
    if isinstance(v, list):
        return tuple(_freeze(x) for x in v)
    if isinstance(v, tuple) and not hasattr(v, "_fields"):
        return tuple(_freeze(x) for x in v)
    if isinstance(v, dict) and not isinstance(v, FrozenDict):
        return FrozenDict((_freeze(k), _freeze(x)) for k, x in v.items())
    if isinstance(v, set):
        return frozenset(_freeze(x) for x in v)
    return v


def _parse_inst(s: str) -> _dt.datetime:
    """#inst text in any form EDN allows (the reader builds the engine's own UTC form itself)."""
    m = re.fullmatch(
        r"(\d{4})(?:-(\d\d)(?:-(\d\d)(?:[T ](\d\d)(?::(\d\d)(?::(\d\d)(?:\.(\d+))?)?)?)?)?)?"
        r"(Z|[+-]\d\d:?\d\d)?", s.strip())
    if not m:
        raise EdnError(f"invalid #inst {s!r}")
    y, mo, d, h, mi, sec, frac, tz = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    tzinfo = _dt.timezone.utc
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        tzinfo = _dt.timezone(sign * _dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    t = _dt.datetime(int(y), int(mo or 1), int(d or 1), int(h or 0), int(mi or 0), int(sec or 0),
                     micro, tzinfo=tzinfo)
    return t.astimezone(_dt.timezone.utc)


def _char(c: str) -> str:
    """The EDN text of a character: \\newline, \\a, \\u0001."""
    for name, ch in _CHAR_NAMES.items():
        if c == ch:
            return "\\" + name
    if c.isprintable() and not c.isspace():
        return "\\" + c
    return "\\u%04x" % ord(c)


def format_inst(t: Any) -> str:
    """#inst text of a datetime or date (naive datetimes are taken as UTC), millisecond precision."""
    if isinstance(t, _dt.datetime):
        if t.tzinfo is not None:
            t = t.astimezone(_dt.timezone.utc)
    elif isinstance(t, _dt.date):
        t = _dt.datetime(t.year, t.month, t.day)
    return '#inst "%s.%03dZ"' % (t.strftime("%Y-%m-%dT%H:%M:%S"), t.microsecond // 1000)


def loads(text: Any) -> Any:
    """Reads one EDN value from text (str, bytes or bytearray; comments, #_ and whitespace around
    it allowed). EdnError when the text is malformed."""
    return _datahike.loads(text)


def dumps(v: Any) -> str:
    """EDN text of a Python value (see the module's mapping). TypeError for a value with none."""
    return _datahike.dumps(v)


def _escape(s: str) -> str:
    """The EDN string literal of s."""
    return _datahike.dumps(str.__str__(s))


_datahike.set_types({
    "Keyword": Keyword, "Symbol": Symbol, "Char": Char, "BigInt": BigInt, "List": List,
    "FrozenList": FrozenList, "Tagged": Tagged, "FrozenDict": FrozenDict, "Edn": Edn,
    "EDNType": EDNType, "EdnError": EdnError, "Decimal": Decimal, "Fraction": Fraction,
    "uuid.UUID": _uuid.UUID, "format_inst": format_inst, "parse_inst": _parse_inst,
    "char_text": _char, "STRING_MARKER": STRING_MARKER,
})
