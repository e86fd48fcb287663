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

The module is also pydatahike's `edn` helper module: keyword(), symbol(), uuid(), inst(), string()
and the constants of `kw`.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import uuid as _uuid
from decimal import Decimal
from fractions import Fraction
from typing import Any, Iterable, Optional

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


class UUID(EDNType):
    """pydatahike's explicit #uuid value (the printer also takes uuid.UUID)."""

    def __init__(self, value: str):
        value = str(value)
        if value.startswith("#uuid"):
            value = value[5:].strip().strip('"')
        self.value = value

    def to_edn(self) -> str:
        return f'#uuid "{self.value}"'

    def __repr__(self) -> str:
        return f"UUID({self.value!r})"


class Inst(EDNType):
    """pydatahike's explicit #inst value (the printer also takes datetime)."""

    def __init__(self, value: str):
        value = str(value)
        if value.startswith("#inst"):
            value = value[5:].strip().strip('"')
        self.value = value

    def to_edn(self) -> str:
        return f'#inst "{self.value}"'

    def __repr__(self) -> str:
        return f"Inst({self.value!r})"


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


# ---- reader ----------------------------------------------------------------------------------

_WS = " \t\n\r,\f\v"
_DELIMS = set(_WS) | set("()[]{}\";")
_INT_RE = re.compile(r"[+-]?\d+N?\Z")
_FLOAT_RE = re.compile(r"[+-]?\d+(\.\d*)?([eE][+-]?\d+)?M?\Z")
_RATIO_RE = re.compile(r"[+-]?\d+/\d+\Z")
_CHAR_NAMES = {"newline": "\n", "space": " ", "tab": "\t", "return": "\r",
               "backspace": "\b", "formfeed": "\f"}
_STR_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f",
                "/": "/"}


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


class _Reader:
    __slots__ = ("s", "i", "n")

    def __init__(self, s: str):
        self.s = s
        self.i = 0
        self.n = len(s)

    def error(self, msg: str) -> EdnError:
        return EdnError(f"{msg} at offset {self.i}")

    def skip(self) -> None:
        s, n = self.s, self.n
        while self.i < n:
            c = s[self.i]
            if c in _WS:
                self.i += 1
            elif c == ";":
                j = s.find("\n", self.i)
                self.i = n if j < 0 else j + 1
            elif c == "#" and self.i + 1 < n and s[self.i + 1] == "_":
                self.i += 2
                self.read()
            else:
                return

    def token(self) -> str:
        s, n, j = self.s, self.n, self.i
        while j < n and s[j] not in _DELIMS:
            j += 1
        tok = s[self.i:j]
        self.i = j
        return tok

    def seq(self, close: str) -> list:
        out = []
        while True:
            self.skip()
            if self.i >= self.n:
                raise self.error(f"unterminated collection, expected {close!r}")
            if self.s[self.i] == close:
                self.i += 1
                return out
            out.append(self.read())

    def read(self) -> Any:
        self.skip()
        if self.i >= self.n:
            raise self.error("unexpected end of input")
        s = self.s
        c = s[self.i]
        if c == "[":
            self.i += 1
            return self.seq("]")
        if c == "(":
            self.i += 1
            return List(self.seq(")"))
        if c == "{":
            self.i += 1
            items = self.seq("}")
            if len(items) % 2:
                raise self.error("a map needs an even number of forms")
            out = {}
            for k in range(0, len(items), 2):
                key = _freeze(items[k])
                if key in out:
                    raise self.error(f"duplicate map key {key!r}")
                out[key] = items[k + 1]
            return out
        if c == '"':
            return self.string()
        if c == "#":
            return self.dispatch()
        if c == "\\":
            return self.char()
        if c in ")]}":
            raise self.error(f"unexpected {c!r}")
        tok = self.token()
        if not tok:
            raise self.error(f"unexpected {c!r}")
        return self.atom(tok)

    def string(self) -> str:
        s, n = self.s, self.n
        j = self.i + 1
        parts = []
        start = j
        while True:
            if j >= n:
                raise self.error("unterminated string")
            c = s[j]
            if c == '"':
                parts.append(s[start:j])
                self.i = j + 1
                return "".join(parts)
            if c == "\\":
                parts.append(s[start:j])
                if j + 1 >= n:
                    raise self.error("unterminated string")
                e = s[j + 1]
                if e == "u":
                    hexs = s[j + 2:j + 6]
                    if not re.fullmatch(r"[0-9a-fA-F]{4}", hexs):
                        raise self.error("invalid \\u escape")
                    code = int(hexs, 16)
                    j += 6
                    # A surrogate pair written as two escapes.
                    if 0xD800 <= code < 0xDC00 and s[j:j + 2] == "\\u":
                        low = s[j + 2:j + 6]
                        if re.fullmatch(r"[0-9a-fA-F]{4}", low) and 0xDC00 <= int(low, 16) < 0xE000:
                            code = 0x10000 + ((code - 0xD800) << 10) + (int(low, 16) - 0xDC00)
                            j += 6
                    parts.append(chr(code))
                elif e in _STR_ESCAPES:
                    parts.append(_STR_ESCAPES[e])
                    j += 2
                else:
                    raise self.error(f"invalid escape \\{e}")
                start = j
            else:
                j += 1

    def char(self) -> Char:
        self.i += 1
        if self.i >= self.n:
            raise self.error("unterminated character")
        j = self.i + 1
        while j < self.n and self.s[j] not in _DELIMS:
            j += 1
        tok = self.s[self.i:j]
        self.i = j
        if len(tok) == 1:
            return Char(tok)
        if tok in _CHAR_NAMES:
            return Char(_CHAR_NAMES[tok])
        if tok.startswith("u") and re.fullmatch(r"u[0-9a-fA-F]{4}", tok):
            return Char(chr(int(tok[1:], 16)))
        raise self.error(f"invalid character \\{tok}")

    def dispatch(self) -> Any:
        s = self.s
        nxt = s[self.i + 1] if self.i + 1 < self.n else ""
        if nxt == "{":
            self.i += 2
            out = set()
            for x in self.seq("}"):
                fx = _freeze(x)
                if fx in out:
                    raise self.error(f"duplicate set element {fx!r}")
                out.add(fx)
            return out
        if nxt == "#":
            self.i += 2
            tok = self.token()
            if tok == "Inf":
                return math.inf
            if tok == "-Inf":
                return -math.inf
            if tok == "NaN":
                return math.nan
            raise self.error(f"unknown symbolic value ##{tok}")
        self.i += 1
        tag = self.token()
        if not tag or not (tag[0].isalpha()):
            raise self.error("invalid dispatch #" + tag)
        value = self.read()
        if tag == "inst":
            if not isinstance(value, str):
                raise self.error("#inst needs a string")
            return _parse_inst(value)
        if tag == "uuid":
            if not isinstance(value, str):
                raise self.error("#uuid needs a string")
            try:
                return _uuid.UUID(value)
            except ValueError:
                raise self.error(f"invalid #uuid {value!r}") from None
        return Tagged(tag, value)

    def atom(self, tok: str) -> Any:
        c = tok[0]
        if c.isdigit() or (c in "+-" and len(tok) > 1 and tok[1].isdigit()):
            if _INT_RE.match(tok):
                return BigInt(int(tok[:-1])) if tok.endswith("N") else int(tok)
            if _FLOAT_RE.match(tok):
                return Decimal(tok[:-1]) if tok.endswith("M") else float(tok)
            if _RATIO_RE.match(tok):
                num, den = tok.split("/")
                if int(den) == 0:
                    raise self.error("ratio with zero denominator")
                return Fraction(int(num), int(den))
            raise self.error(f"invalid number {tok!r}")
        if c == ":":
            if len(tok) < 2 or tok[1] == ":" or tok.endswith("/"):
                raise self.error(f"invalid keyword {tok!r}")
            return Keyword(tok)
        if tok == "nil":
            return None
        if tok == "true":
            return True
        if tok == "false":
            return False
        if tok.endswith("/") and tok != "/":
            raise self.error(f"invalid symbol {tok!r}")
        return Symbol(tok)


def loads(text: str) -> Any:
    """Reads one EDN value from text (comments, #_ and whitespace around it allowed)."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8")
    if not isinstance(text, str):
        raise TypeError(f"EDN text must be str, not {type(text).__name__}")
    if len(text) < 19 and text.isascii() and text.isdigit():  # the common small result: an entity id, a count
        return int(text)
    r = _Reader(text)
    v = r.read()
    r.skip()
    if r.i != r.n:
        raise r.error("trailing text after the value")
    return v


def loads_all(text: str) -> list:
    """Reads every EDN value of text."""
    r = _Reader(text)
    out = []
    while True:
        r.skip()
        if r.i >= r.n:
            return out
        out.append(r.read())


# ---- printer ---------------------------------------------------------------------------------

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_ESCAPE_RE = re.compile(r'[\\"\x00-\x1f\x7f]')
_ESCAPE_MAP = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b",
               "\f": "\\f"}


def _escape(s: str) -> str:
    if s.isprintable() and '"' not in s and "\\" not in s:
        return '"' + s + '"'
    return '"' + _ESCAPE_RE.sub(lambda m: _ESCAPE_MAP.get(m.group(), "\\u%04x" % ord(m.group())),
                                s) + '"'


def _char(c: str) -> str:
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


def _key(k: Any, out: list) -> None:
    if type(k) is str:
        if k.startswith(STRING_MARKER):
            out.append(_escape(k[len(STRING_MARKER):]))
        else:
            out.append(":" + k[1:] if k.startswith(":") else ":" + k)
    else:
        _print(k, out)


def _print(v: Any, out: list) -> None:
    t = type(v)
    if v is None:
        out.append("nil")
    elif t is bool:
        out.append("true" if v else "false")
    elif t is Keyword:
        out.append(str.__str__(v))
    elif t is str:
        out.append(_escape(v))
    elif t is int:
        out.append(str(v) if _INT64_MIN <= v <= _INT64_MAX else f"{v}N")
    elif t is float:
        if math.isnan(v):
            out.append("##NaN")
        elif math.isinf(v):
            out.append("##Inf" if v > 0 else "##-Inf")
        else:
            out.append(repr(v))
    elif t is list or t is tuple:
        out.append("[")
        for i, x in enumerate(v):
            if i:
                out.append(" ")
            _print(x, out)
        out.append("]")
    elif isinstance(v, (List, FrozenList)):
        out.append("(")
        for i, x in enumerate(v):
            if i:
                out.append(" ")
            _print(x, out)
        out.append(")")
    elif isinstance(v, dict):
        out.append("{")
        first = True
        for k, x in v.items():
            if not first:
                out.append(" ")
            first = False
            _key(k, out)
            out.append(" ")
            _print(x, out)
        out.append("}")
    elif isinstance(v, (set, frozenset)):
        out.append("#{")
        for i, x in enumerate(v):
            if i:
                out.append(" ")
            _print(x, out)
        out.append("}")
    elif isinstance(v, Symbol):
        out.append(v.value)
    elif isinstance(v, Edn):
        out.append(str.__str__(v))
    elif isinstance(v, Keyword):
        out.append(str.__str__(v))
    elif isinstance(v, Char):
        out.append(_char(str.__str__(v)))
    elif isinstance(v, bool):
        out.append("true" if v else "false")
    elif isinstance(v, BigInt):
        out.append(f"{int(v)}N")
    elif isinstance(v, int):
        _print(int(v), out)
    elif isinstance(v, float):
        _print(float(v), out)
    elif isinstance(v, Decimal):
        if not v.is_finite():
            raise EdnError(f"no EDN form for the decimal {v}")
        out.append(f"{v}M")
    elif isinstance(v, Fraction):
        out.append(f"{v.numerator}/{v.denominator}" if v.denominator != 1 else str(v.numerator))
    elif isinstance(v, str):
        out.append(_escape(str.__str__(v)))
    elif isinstance(v, _uuid.UUID):
        out.append(f'#uuid "{v}"')
    elif isinstance(v, (_dt.datetime, _dt.date)):
        out.append(format_inst(v))
    elif isinstance(v, Tagged):
        out.append("#" + v.tag + " ")
        _print(v.value, out)
    elif isinstance(v, EDNType):
        out.append(v.to_edn())
    elif isinstance(v, (list, tuple)):
        _print(list(v), out)
    elif hasattr(v, "__edn__"):
        out.append(v.__edn__())
    else:
        raise TypeError(f"no EDN form for a value of type {type(v).__name__}: {v!r}")


def dumps(v: Any) -> str:
    """EDN text of a Python value (see the module's mapping). TypeError for a value with none."""
    out: list = []
    _print(v, out)
    return "".join(out)
