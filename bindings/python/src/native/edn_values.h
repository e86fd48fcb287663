// EDN text <-> Python values, in C++: the conversion every call of the datahike package makes.
//
// The value mapping is the one datahike/edn.py documents (nil None, vectors list, lists edn.List,
// maps dict, sets set, keywords edn.Keyword, symbols edn.Symbol, #inst datetime in UTC, #uuid
// uuid.UUID, 1.5M Decimal, 42N edn.BigInt, 1/3 Fraction, \a edn.Char, other tags edn.Tagged;
// inside sets and map keys vectors become tuples, maps FrozenDicts, sets frozensets). The classes
// come from edn.py, which registers them with SetEdnTypes when it is imported; nothing here works
// before that.
//
// All functions need the GIL and report errors as Python exceptions (py::error_already_set):
// malformed text raises edn.EdnError, a value without an EDN form TypeError.
#pragma once

#include <pybind11/pybind11.h>

#include <string>
#include <string_view>

namespace datahike_python {

namespace py = pybind11;

// Takes the classes and helpers the conversion needs from a dict (the names are those of
// edn.py: "Keyword", "Symbol", ..., "format_inst", "parse_inst", "char_text"). Keys already set
// are replaced; call it again to add the ones defined later.
void SetEdnTypes(const py::dict& types);

// Reads exactly one EDN value (whitespace, comments and #_ forms may surround it).
py::object ReadEdn(std::string_view text);

// How Python values print. kEdn is datahike.edn.dumps: a dict key that is a plain str becomes a
// keyword, other str values are strings. kPydatahike is pydatahike's conversion
// (datahike/_rules.py): every str dict key becomes a keyword, and a str value starting with ":" is
// a keyword, one starting with "\:" the string after the backslash; lists print as vectors.
enum class PrintRules { kEdn, kPydatahike };

// Appends the EDN text of v to *out.
void PrintEdn(PyObject* v, PrintRules rules, std::string* out);

// Whether v is EDN text as it stands: a plain str or an edn.Edn (not a Keyword or other str
// subclass, which print as what they are).
bool IsEdnText(PyObject* v);

// Appends an EDN string literal of the UTF-8 text s: quoted, with \" \\ \n ... and \u00XX escapes.
void PrintEdnString(std::string_view utf8, std::string* out);

}  // namespace datahike_python
