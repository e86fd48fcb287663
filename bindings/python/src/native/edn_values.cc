// EDN text <-> Python values (edn_values.h). The reader and printer follow datahike/edn.py's rules
// exactly; what is rare (Char names, dates other than UTC instants, Decimal and Fraction text) is
// left to small helpers of edn.py, the rest is built here without running Python code.

#include "edn_values.h"

// clang-format off
#include <Python.h>
#include <datetime.h>
// clang-format on

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace datahike_python {
namespace {

// The classes and helpers of edn.py (strong references, never released: they live as long as the
// module). Set by SetEdnTypes.
struct EdnTypes {
  PyObject* keyword = nullptr;
  PyObject* symbol = nullptr;
  PyObject* chr = nullptr;
  PyObject* bigint = nullptr;
  PyObject* list = nullptr;
  PyObject* frozen_list = nullptr;
  PyObject* tagged = nullptr;
  PyObject* frozen_dict = nullptr;
  PyObject* edn = nullptr;
  PyObject* edn_type = nullptr;
  PyObject* edn_error = nullptr;
  PyObject* decimal = nullptr;
  PyObject* fraction = nullptr;
  PyObject* uuid = nullptr;
  PyObject* format_inst = nullptr;  // format_inst(datetime or date) -> '#inst "..."'
  PyObject* parse_inst = nullptr;   // parse_inst(str) -> datetime, for the rare non-UTC forms
  PyObject* char_text = nullptr;    // char_text(str) -> "\\newline" etc.
  std::string string_marker;        // edn.STRING_MARKER
};

EdnTypes g_types;

// The datetime C API (PyDateTimeAPI), imported on first use.
void RequireDateTime() {
  static bool ready = false;
  if (ready) return;
  PyDateTime_IMPORT;
  if (PyDateTimeAPI == nullptr) throw py::error_already_set();
  ready = true;
}

// Keywords are immutable str subclass instances: the reader hands out one object per keyword text.
// Guarded by the GIL; starts over when full.
std::unordered_map<std::string, PyObject*>& KeywordCache() {
  static auto* cache = new std::unordered_map<std::string, PyObject*>();
  return *cache;
}
constexpr size_t kMaxCachedKeywords = 4096;

[[noreturn]] void Throw() { throw py::error_already_set(); }

PyObject* Check(PyObject* o) {
  if (o == nullptr) Throw();
  return o;
}

void Require(PyObject* type, const char* name) {
  if (type == nullptr) {
    throw std::runtime_error(std::string("datahike: the EDN conversion is not set up (") + name +
                             " missing): import datahike first");
  }
}

// An instance of a str subclass (Keyword, Char) holding `s`, as str.__new__(cls, s) makes it.
PyObject* StrOfType(PyObject* cls, PyObject* s) {
  py::tuple args = py::reinterpret_steal<py::tuple>(Check(PyTuple_Pack(1, s)));
  return Check(PyUnicode_Type.tp_new(reinterpret_cast<PyTypeObject*>(cls), args.ptr(), nullptr));
}

PyObject* MakeKeyword(std::string_view text) {
  Require(g_types.keyword, "Keyword");
  auto& cache = KeywordCache();
  std::string key(text);
  if (auto it = cache.find(key); it != cache.end()) {
    Py_INCREF(it->second);
    return it->second;
  }
  py::object s = py::reinterpret_steal<py::object>(
      Check(PyUnicode_DecodeUTF8(text.data(), text.size(), nullptr)));
  PyObject* k = StrOfType(g_types.keyword, s.ptr());
  if (cache.size() >= kMaxCachedKeywords) {
    for (auto& [t, o] : cache) Py_DECREF(o);
    cache.clear();
  }
  Py_INCREF(k);
  cache.emplace(std::move(key), k);
  return k;
}

bool IsWhitespace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '\f' || c == '\v';
}
bool IsDelimiter(char c) {
  return IsWhitespace(c) || c == '(' || c == ')' || c == '[' || c == ']' || c == '{' || c == '}' ||
         c == '"' || c == ';';
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
// The byte length of the UTF-8 sequence that starts with lead (1 for a stray continuation byte).
size_t Utf8Length(unsigned char lead) {
  if (lead < 0xC0) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}
// Appends code point cp as UTF-8; surrogates get their 3-byte form (decoded with surrogatepass).
void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Guards one level of nesting: Python's recursion limit applies, and a limit of our own keeps the
// C++ stack small even when Python's is raised (sys.setrecursionlimit). RecursionError beyond.
constexpr int kMaxDepth = 2000;

class RecursionGuard {
 public:
  RecursionGuard(int* depth, const char* where) : depth_(depth) {
    if (*depth_ >= kMaxDepth) {
      PyErr_Format(PyExc_RecursionError, "EDN nested more than %d levels deep%s", kMaxDepth, where);
      Throw();
    }
    if (Py_EnterRecursiveCall(where) != 0) Throw();
    ++*depth_;
  }
  ~RecursionGuard() {
    --*depth_;
    Py_LeaveRecursiveCall();
  }
  RecursionGuard(const RecursionGuard&) = delete;
  RecursionGuard& operator=(const RecursionGuard&) = delete;

 private:
  int* depth_;
};

// ---- reader ------------------------------------------------------------------------------------

class Reader {
 public:
  explicit Reader(std::string_view text) : s_(text) {}

  py::object ReadAll() {
    py::object v = Read(false);
    Skip();
    if (i_ != s_.size()) Fail("trailing text after the value");
    return v;
  }

 private:
  [[noreturn]] void Fail(const std::string& message) {
    Require(g_types.edn_error, "EdnError");
    PyErr_SetString(g_types.edn_error, (message + " at offset " + std::to_string(i_)).c_str());
    Throw();
  }

  void Skip() {
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (IsWhitespace(c)) {
        ++i_;
      } else if (c == ';') {
        size_t j = s_.find('\n', i_);
        i_ = j == std::string_view::npos ? s_.size() : j + 1;
      } else if (c == '#' && i_ + 1 < s_.size() && s_[i_ + 1] == '_') {
        i_ += 2;
        Read(false);
      } else {
        return;
      }
    }
  }

  std::string_view Token() {
    size_t j = i_;
    while (j < s_.size() && !IsDelimiter(s_[j])) ++j;
    std::string_view tok = s_.substr(i_, j - i_);
    i_ = j;
    return tok;
  }

  // Reads forms up to `close` into a new list, or (as_tuple) a new tuple. `frozen` applies to
  // every element.
  py::object Seq(char close, bool frozen, bool as_tuple) {
    std::vector<py::object> items;
    while (true) {
      Skip();
      if (i_ >= s_.size()) Fail(std::string("unterminated collection, expected '") + close + "'");
      if (s_[i_] == close) {
        ++i_;
        break;
      }
      items.push_back(Read(frozen));
    }
    Py_ssize_t n = static_cast<Py_ssize_t>(items.size());
    PyObject* out = Check(as_tuple ? PyTuple_New(n) : PyList_New(n));
    for (Py_ssize_t k = 0; k < n; ++k) {
      PyObject* x = items[static_cast<size_t>(k)].release().ptr();
      if (as_tuple) {
        PyTuple_SET_ITEM(out, k, x);
      } else {
        PyList_SET_ITEM(out, k, x);
      }
    }
    return py::reinterpret_steal<py::object>(out);
  }

  // One value. frozen: it is (inside) a set element or map key, so it must be hashable: vectors
  // are tuples, lists FrozenLists, maps FrozenDicts, sets frozensets.
  py::object Read(bool frozen) {
    RecursionGuard guard(&depth_, " while reading EDN");
    Skip();
    if (i_ >= s_.size()) Fail("unexpected end of input");
    char c = s_[i_];
    switch (c) {
      case '[': {
        ++i_;
        return Seq(']', frozen, frozen);
      }
      case '(': {
        ++i_;
        py::object items = Seq(')', frozen, frozen);
        PyObject* cls = frozen ? g_types.frozen_list : g_types.list;
        Require(cls, frozen ? "FrozenList" : "List");
        return py::reinterpret_steal<py::object>(Check(PyObject_CallOneArg(cls, items.ptr())));
      }
      case '{': {
        ++i_;
        return Map(frozen);
      }
      case '"':
        return String();
      case '#':
        return Dispatch(frozen);
      case '\\':
        return Char();
      case ')':
      case ']':
      case '}':
        Fail(std::string("unexpected '") + c + "'");
      default:
        break;
    }
    std::string_view tok = Token();
    if (tok.empty()) Fail(std::string("unexpected '") + c + "'");
    return Atom(tok);
  }

  py::object Map(bool frozen) {
    py::object out;
    if (frozen) {
      Require(g_types.frozen_dict, "FrozenDict");
      out = py::reinterpret_steal<py::object>(Check(PyObject_CallNoArgs(g_types.frozen_dict)));
    } else {
      out = py::reinterpret_steal<py::object>(Check(PyDict_New()));
    }
    size_t n = 0;
    py::object key;
    while (true) {
      Skip();
      if (i_ >= s_.size()) Fail("unterminated collection, expected '}'");
      if (s_[i_] == '}') {
        ++i_;
        break;
      }
      if (n % 2 == 0) {
        key = Read(true);
      } else {
        py::object value = Read(frozen);
        Py_ssize_t size = PyDict_GET_SIZE(out.ptr());
        if (PyDict_SetItem(out.ptr(), key.ptr(), value.ptr()) != 0) Throw();
        if (PyDict_GET_SIZE(out.ptr()) == size) Fail("duplicate map key " + Repr(key.ptr()));
      }
      ++n;
    }
    if (n % 2 != 0) Fail("a map needs an even number of forms");
    return out;
  }

  static std::string Repr(PyObject* o) {
    py::object r = py::reinterpret_steal<py::object>(PyObject_Repr(o));
    if (!r) {
      PyErr_Clear();
      return "?";
    }
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(r.ptr(), &n);
    if (s == nullptr) {
      PyErr_Clear();
      return "?";
    }
    return std::string(s, static_cast<size_t>(n));
  }

  py::object String() {
    size_t j = i_ + 1;
    size_t start = j;
    // Most strings have no escape: decoded straight from the text.
    while (j < s_.size() && s_[j] != '"' && s_[j] != '\\') ++j;
    if (j >= s_.size()) Fail("unterminated string");
    if (s_[j] == '"') {
      i_ = j + 1;
      return py::reinterpret_steal<py::object>(
          Check(PyUnicode_DecodeUTF8(s_.data() + start, j - start, nullptr)));
    }
    std::string buf(s_.substr(start, j - start));
    while (true) {
      if (j >= s_.size()) Fail("unterminated string");
      char c = s_[j];
      if (c == '"') break;
      if (c != '\\') {
        buf.push_back(c);
        ++j;
        continue;
      }
      if (j + 1 >= s_.size()) Fail("unterminated string");
      char e = s_[j + 1];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          buf.push_back(e);
          j += 2;
          break;
        case 'n':
          buf.push_back('\n');
          j += 2;
          break;
        case 't':
          buf.push_back('\t');
          j += 2;
          break;
        case 'r':
          buf.push_back('\r');
          j += 2;
          break;
        case 'b':
          buf.push_back('\b');
          j += 2;
          break;
        case 'f':
          buf.push_back('\f');
          j += 2;
          break;
        case 'u': {
          int code = Hex4(j + 2);
          if (code < 0) {
            i_ = j;
            Fail("invalid \\u escape");
          }
          j += 6;
          // A surrogate pair written as two escapes.
          if (code >= 0xD800 && code < 0xDC00 && j + 1 < s_.size() && s_[j] == '\\' &&
              s_[j + 1] == 'u') {
            int low = Hex4(j + 2);
            if (low >= 0xDC00 && low < 0xE000) {
              code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
              j += 6;
            }
          }
          AppendUtf8(static_cast<uint32_t>(code), &buf);
          break;
        }
        default:
          i_ = j;
          Fail(std::string("invalid escape \\") + e);
      }
    }
    i_ = j + 1;
    return py::reinterpret_steal<py::object>(
        Check(PyUnicode_DecodeUTF8(buf.data(), buf.size(), "surrogatepass")));
  }

  // The value of the 4 hex digits at s_[at], or -1.
  int Hex4(size_t at) const {
    if (at + 4 > s_.size()) return -1;
    int v = 0;
    for (size_t k = 0; k < 4; ++k) {
      int h = HexValue(s_[at + k]);
      if (h < 0) return -1;
      v = v * 16 + h;
    }
    return v;
  }

  py::object Char() {
    ++i_;
    if (i_ >= s_.size()) Fail("unterminated character");
    // The first code point always belongs to the character (\( is "("), then up to a delimiter.
    size_t first = std::min(s_.size() - i_, Utf8Length(static_cast<unsigned char>(s_[i_])));
    size_t j = i_ + first;
    while (j < s_.size() && !IsDelimiter(s_[j])) ++j;
    size_t at = i_;
    std::string_view tok = s_.substr(at, j - at);
    i_ = j;
    if (tok.size() == first) {
      return MakeChar(py::reinterpret_steal<py::object>(
                          Check(PyUnicode_DecodeUTF8(tok.data(), tok.size(), "surrogatepass")))
                          .ptr());
    }
    static const std::pair<const char*, char> kNames[] = {{"newline", '\n'},   {"space", ' '},
                                                          {"tab", '\t'},       {"return", '\r'},
                                                          {"backspace", '\b'}, {"formfeed", '\f'}};
    int code = -1;
    for (const auto& [name, ch] : kNames) {
      if (tok == name) code = static_cast<unsigned char>(ch);
    }
    if (code < 0 && tok.size() == 5 && tok[0] == 'u') code = Hex4(at + 1);
    if (code < 0) Fail("invalid character \\" + std::string(tok));
    return MakeChar(py::reinterpret_steal<py::object>(Check(PyUnicode_FromOrdinal(code))).ptr());
  }

  static py::object MakeChar(PyObject* s) {
    Require(g_types.chr, "Char");
    return py::reinterpret_steal<py::object>(StrOfType(g_types.chr, s));
  }

  py::object Dispatch(bool frozen) {
    char next = i_ + 1 < s_.size() ? s_[i_ + 1] : '\0';
    if (next == '{') {
      i_ += 2;
      py::object out = py::reinterpret_steal<py::object>(
          Check(frozen ? PyFrozenSet_New(nullptr) : PySet_New(nullptr)));
      while (true) {
        Skip();
        if (i_ >= s_.size()) Fail("unterminated collection, expected '}'");
        if (s_[i_] == '}') {
          ++i_;
          return out;
        }
        py::object x = Read(true);
        Py_ssize_t size = PySet_GET_SIZE(out.ptr());
        if (PySet_Add(out.ptr(), x.ptr()) != 0) Throw();
        if (PySet_GET_SIZE(out.ptr()) == size) Fail("duplicate set element " + Repr(x.ptr()));
      }
    }
    if (next == '#') {
      i_ += 2;
      std::string_view tok = Token();
      if (tok == "Inf") return py::float_(Py_HUGE_VAL);
      if (tok == "-Inf") return py::float_(-Py_HUGE_VAL);
      if (tok == "NaN") return py::float_(Py_NAN);
      Fail("unknown symbolic value ##" + std::string(tok));
    }
    ++i_;
    std::string_view tag = Token();
    if (tag.empty() || !StartsWithLetter(tag)) Fail("invalid dispatch #" + std::string(tag));
    py::object value = Read(false);
    if (tag == "inst") {
      if (!PyUnicode_Check(value.ptr())) Fail("#inst needs a string");
      return Inst(value);
    }
    if (tag == "uuid") {
      if (!PyUnicode_Check(value.ptr())) Fail("#uuid needs a string");
      Require(g_types.uuid, "uuid.UUID");
      PyObject* u = PyObject_CallOneArg(g_types.uuid, value.ptr());
      if (u == nullptr) {
        if (!PyErr_ExceptionMatches(PyExc_ValueError)) Throw();
        PyErr_Clear();
        Fail("invalid #uuid " + Repr(value.ptr()));
      }
      return py::reinterpret_steal<py::object>(u);
    }
    Require(g_types.tagged, "Tagged");
    py::object tag_str = py::reinterpret_steal<py::object>(
        Check(PyUnicode_DecodeUTF8(tag.data(), tag.size(), nullptr)));
    return py::reinterpret_steal<py::object>(
        Check(PyObject_CallFunctionObjArgs(g_types.tagged, tag_str.ptr(), value.ptr(), nullptr)));
  }

  static bool StartsWithLetter(std::string_view tok) {
    unsigned char c = static_cast<unsigned char>(tok[0]);
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    py::object s = py::reinterpret_steal<py::object>(
        PyUnicode_DecodeUTF8(tok.data(), std::min(tok.size(), Utf8Length(c)), "replace"));
    if (!s) {
      PyErr_Clear();
      return false;
    }
    return PyUnicode_GET_LENGTH(s.ptr()) > 0 && Py_UNICODE_ISALPHA(PyUnicode_READ_CHAR(s.ptr(), 0));
  }

  // #inst "2024-01-02T03:04:05.678Z" (the engine's form, also with -00:00 or +00:00) is built
  // here; every other form goes to edn.py's parse_inst.
  py::object Inst(const py::object& text) {
    Py_ssize_t n = 0;
    const char* s = PyUnicode_AsUTF8AndSize(text.ptr(), &n);
    if (s == nullptr) Throw();
    std::string_view t(s, static_cast<size_t>(n));
    auto digits = [&](size_t at, size_t count, int* out) {
      if (at + count > t.size()) return false;
      int v = 0;
      for (size_t k = 0; k < count; ++k) {
        if (!IsDigit(t[at + k])) return false;
        v = v * 10 + (t[at + k] - '0');
      }
      *out = v;
      return true;
    };
    int y, mo, d, h, mi, sec, micro = 0;
    bool fast = t.size() >= 20 && digits(0, 4, &y) && t[4] == '-' && digits(5, 2, &mo) &&
                t[7] == '-' && digits(8, 2, &d) && t[10] == 'T' && digits(11, 2, &h) &&
                t[13] == ':' && digits(14, 2, &mi) && t[16] == ':' && digits(17, 2, &sec);
    if (fast) {
      size_t k = 19;
      if (k < t.size() && t[k] == '.') {
        ++k;
        size_t begin = k;
        while (k < t.size() && IsDigit(t[k])) ++k;
        size_t nfrac = k - begin;
        if (nfrac == 0 || nfrac > 9) fast = false;
        for (size_t q = 0; q < 6; ++q) {
          micro = micro * 10 + (q < nfrac ? t[begin + q] - '0' : 0);
        }
      }
      std::string_view zone = t.substr(std::min(k, t.size()));
      fast = fast && (zone == "Z" || zone == "-00:00" || zone == "+00:00");
    }
    if (fast) {
      RequireDateTime();
      return py::reinterpret_steal<py::object>(Check(PyDateTimeAPI->DateTime_FromDateAndTime(
          y, mo, d, h, mi, sec, micro, PyDateTime_TimeZone_UTC, PyDateTimeAPI->DateTimeType)));
    }
    Require(g_types.parse_inst, "parse_inst");
    return py::reinterpret_steal<py::object>(
        Check(PyObject_CallOneArg(g_types.parse_inst, text.ptr())));
  }

  py::object Atom(std::string_view tok) {
    char c = tok[0];
    if (IsDigit(c) || ((c == '+' || c == '-') && tok.size() > 1 && IsDigit(tok[1]))) {
      return Number(tok);
    }
    if (c == ':') {
      if (tok.size() < 2 || tok[1] == ':' || tok.back() == '/') {
        Fail("invalid keyword '" + std::string(tok) + "'");
      }
      return py::reinterpret_steal<py::object>(MakeKeyword(tok));
    }
    if (tok == "nil") return py::none();
    if (tok == "true") return py::bool_(true);
    if (tok == "false") return py::bool_(false);
    if (tok.size() > 1 && tok.back() == '/') Fail("invalid symbol '" + std::string(tok) + "'");
    Require(g_types.symbol, "Symbol");
    py::object s = py::reinterpret_steal<py::object>(
        Check(PyUnicode_DecodeUTF8(tok.data(), tok.size(), nullptr)));
    return py::reinterpret_steal<py::object>(Check(PyObject_CallOneArg(g_types.symbol, s.ptr())));
  }

  py::object Number(std::string_view tok) {
    size_t k = (tok[0] == '+' || tok[0] == '-') ? 1 : 0;
    size_t digits_begin = k;
    while (k < tok.size() && IsDigit(tok[k])) ++k;
    size_t int_end = k;
    std::string text(tok);
    // [+-]?\d+N?
    if (k == tok.size() || (k + 1 == tok.size() && tok[k] == 'N')) {
      bool big = k < tok.size();
      py::object v;
      if (!big && int_end - digits_begin <= 18) {
        long long x = 0;
        std::from_chars(text.data() + (tok[0] == '+' ? 1 : 0), text.data() + int_end, x);
        v = py::reinterpret_steal<py::object>(Check(PyLong_FromLongLong(x)));
      } else {
        std::string digits = text.substr(0, int_end);
        v = py::reinterpret_steal<py::object>(
            Check(PyLong_FromString(digits.c_str(), nullptr, 10)));
      }
      if (!big) return v;
      Require(g_types.bigint, "BigInt");
      return py::reinterpret_steal<py::object>(Check(PyObject_CallOneArg(g_types.bigint, v.ptr())));
    }
    // [+-]?\d+/\d+
    if (tok[k] == '/') {
      size_t q = k + 1;
      while (q < tok.size() && IsDigit(tok[q])) ++q;
      if (q == tok.size() && q > k + 1) {
        std::string num = text.substr(0, k), den = text.substr(k + 1);
        py::object n =
            py::reinterpret_steal<py::object>(Check(PyLong_FromString(num.c_str(), nullptr, 10)));
        py::object dn =
            py::reinterpret_steal<py::object>(Check(PyLong_FromString(den.c_str(), nullptr, 10)));
        int zero = PyObject_Not(dn.ptr());
        if (zero < 0) Throw();
        if (zero) Fail("ratio with zero denominator");
        Require(g_types.fraction, "Fraction");
        return py::reinterpret_steal<py::object>(
            Check(PyObject_CallFunctionObjArgs(g_types.fraction, n.ptr(), dn.ptr(), nullptr)));
      }
      Fail("invalid number '" + text + "'");
    }
    // [+-]?\d+(\.\d*)?([eE][+-]?\d+)?M?
    if (tok[k] == '.') {
      ++k;
      while (k < tok.size() && IsDigit(tok[k])) ++k;
    }
    if (k < tok.size() && (tok[k] == 'e' || tok[k] == 'E')) {
      size_t e = k + 1;
      if (e < tok.size() && (tok[e] == '+' || tok[e] == '-')) ++e;
      size_t exp_begin = e;
      while (e < tok.size() && IsDigit(tok[e])) ++e;
      if (e == exp_begin) Fail("invalid number '" + text + "'");
      k = e;
    }
    bool decimal = k + 1 == tok.size() && tok[k] == 'M';
    if (k != tok.size() && !decimal) Fail("invalid number '" + text + "'");
    if (decimal) {
      Require(g_types.decimal, "Decimal");
      py::object s =
          py::reinterpret_steal<py::object>(Check(PyUnicode_DecodeUTF8(text.data(), k, nullptr)));
      return py::reinterpret_steal<py::object>(
          Check(PyObject_CallOneArg(g_types.decimal, s.ptr())));
    }
    double d = PyOS_string_to_double(text.c_str(), nullptr, nullptr);
    if (d == -1.0 && PyErr_Occurred()) Throw();
    return py::reinterpret_steal<py::object>(Check(PyFloat_FromDouble(d)));
  }

  std::string_view s_;
  size_t i_ = 0;
  int depth_ = 0;
};

// ---- printer -----------------------------------------------------------------------------------

std::string_view Utf8(PyObject* s) {
  Py_ssize_t n = 0;
  const char* p = PyUnicode_AsUTF8AndSize(s, &n);
  if (p == nullptr) Throw();
  return std::string_view(p, static_cast<size_t>(n));
}

// Appends the text of a Python str (str(x) or a call's result that must be a str).
void AppendStr(PyObject* s, std::string* out) {
  py::object owned = py::reinterpret_steal<py::object>(s);
  if (!PyUnicode_Check(s)) {
    PyErr_SetString(PyExc_TypeError, "an EDN printer helper returned a non-str");
    Throw();
  }
  out->append(Utf8(s));
}

bool IsInstance(PyObject* v, PyObject* cls) {
  if (cls == nullptr) return false;
  int r = PyObject_IsInstance(v, cls);
  if (r < 0) Throw();
  return r == 1;
}

void PrintInt(PyObject* v, std::string* out) {
  int overflow = 0;
  long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
  if (x == -1 && PyErr_Occurred()) Throw();
  if (overflow == 0) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, x);
    out->append(buf, r.ptr);
    return;
  }
  AppendStr(Check(PyObject_Str(v)), out);
  out->push_back('N');
}

void PrintFloat(double d, std::string* out) {
  if (d != d) {
    out->append("##NaN");
  } else if (d == Py_HUGE_VAL) {
    out->append("##Inf");
  } else if (d == -Py_HUGE_VAL) {
    out->append("##-Inf");
  } else {
    char* s = PyOS_double_to_string(d, 'r', 0, Py_DTSF_ADD_DOT_0, nullptr);
    if (s == nullptr) Throw();
    out->append(s);
    PyMem_Free(s);
  }
}

class Printer {
 public:
  Printer(PrintRules rules, std::string* out) : rules_(rules), out_(out) {}

  void Print(PyObject* v) {
    if (rules_ == PrintRules::kPydatahike) {
      PrintPydatahike(v);
    } else {
      PrintEdn(v);
    }
  }

 private:
  template <class Each>
  void Items(PyObject* v, const char* open, const char* close, Each&& each) {
    RecursionGuard guard(&depth_, " while printing EDN");
    out_->append(open);
    bool first = true;
    if (PyList_CheckExact(v) || PyTuple_CheckExact(v)) {
      bool list = PyList_CheckExact(v);
      for (Py_ssize_t i = 0; i < (list ? PyList_GET_SIZE(v) : PyTuple_GET_SIZE(v)); ++i) {
        py::object x = py::reinterpret_borrow<py::object>(list ? PyList_GET_ITEM(v, i)
                                                               : PyTuple_GET_ITEM(v, i));
        if (!first) out_->push_back(' ');
        first = false;
        each(x.ptr());
      }
    } else {
      py::object it = py::reinterpret_steal<py::object>(Check(PyObject_GetIter(v)));
      while (PyObject* raw = PyIter_Next(it.ptr())) {
        py::object x = py::reinterpret_steal<py::object>(raw);
        if (!first) out_->push_back(' ');
        first = false;
        each(x.ptr());
      }
      if (PyErr_Occurred()) Throw();
    }
    out_->append(close);
  }

  template <class Key, class Value>
  void MapItems(PyObject* v, Key&& key, Value&& value) {
    RecursionGuard guard(&depth_, " while printing EDN");
    out_->push_back('{');
    bool first = true;
    if (PyDict_CheckExact(v)) {
      Py_ssize_t pos = 0;
      PyObject *k, *x;
      while (PyDict_Next(v, &pos, &k, &x)) {
        py::object kh = py::reinterpret_borrow<py::object>(k);
        py::object xh = py::reinterpret_borrow<py::object>(x);
        if (!first) out_->push_back(' ');
        first = false;
        key(k);
        out_->push_back(' ');
        value(x);
      }
    } else {
      // A dict subclass may override items(): go through it, as the Python printer does.
      py::object items =
          py::reinterpret_steal<py::object>(Check(PyObject_CallMethod(v, "items", nullptr)));
      py::object it = py::reinterpret_steal<py::object>(Check(PyObject_GetIter(items.ptr())));
      while (PyObject* raw = PyIter_Next(it.ptr())) {
        py::object pair = py::reinterpret_steal<py::object>(raw);
        if (!PyTuple_Check(raw) || PyTuple_GET_SIZE(raw) != 2) {
          PyErr_SetString(PyExc_TypeError, "dict items must be pairs");
          Throw();
        }
        if (!first) out_->push_back(' ');
        first = false;
        key(PyTuple_GET_ITEM(raw, 0));
        out_->push_back(' ');
        value(PyTuple_GET_ITEM(raw, 1));
      }
      if (PyErr_Occurred()) Throw();
    }
    out_->push_back('}');
  }

  PyObject* Call(PyObject* fn, PyObject* arg) { return Check(PyObject_CallOneArg(fn, arg)); }

  // The marker of edn.string(): a str that stays a string.
  bool Marked(std::string_view s) const {
    const std::string& m = g_types.string_marker;
    return !m.empty() && s.size() >= m.size() && s.compare(0, m.size(), m) == 0;
  }

  // datahike.edn.dumps's _print.
  void PrintEdn(PyObject* v) {
    PyTypeObject* t = Py_TYPE(v);
    if (v == Py_None) {
      out_->append("nil");
    } else if (t == &PyBool_Type) {
      out_->append(v == Py_True ? "true" : "false");
    } else if (reinterpret_cast<PyObject*>(t) == g_types.keyword) {
      out_->append(Utf8(v));
    } else if (t == &PyUnicode_Type) {
      PrintEdnString(Utf8(v), out_);
    } else if (t == &PyLong_Type) {
      PrintInt(v, out_);
    } else if (t == &PyFloat_Type) {
      PrintFloat(PyFloat_AS_DOUBLE(v), out_);
    } else if (t == &PyList_Type || t == &PyTuple_Type) {
      Items(v, "[", "]", [this](PyObject* x) { PrintEdn(x); });
    } else if (IsInstance(v, g_types.list) || IsInstance(v, g_types.frozen_list)) {
      Items(v, "(", ")", [this](PyObject* x) { PrintEdn(x); });
    } else if (PyDict_Check(v)) {
      MapItems(v, [this](PyObject* k) { EdnKey(k); }, [this](PyObject* x) { PrintEdn(x); });
    } else if (PyAnySet_Check(v)) {
      Items(v, "#{", "}", [this](PyObject* x) { PrintEdn(x); });
    } else if (IsInstance(v, g_types.symbol)) {
      AppendStr(Check(PyObject_GetAttrString(v, "value")), out_);
    } else if (IsInstance(v, g_types.edn) || IsInstance(v, g_types.keyword)) {
      out_->append(Utf8(v));
    } else if (IsInstance(v, g_types.chr)) {
      Require(g_types.char_text, "char_text");
      AppendStr(Call(g_types.char_text, v), out_);
    } else if (IsInstance(v, g_types.bigint)) {
      py::object i = py::reinterpret_steal<py::object>(Check(PyNumber_Long(v)));
      AppendStr(Check(PyObject_Str(i.ptr())), out_);
      out_->push_back('N');
    } else if (PyLong_Check(v)) {
      py::object i = py::reinterpret_steal<py::object>(Check(PyNumber_Long(v)));
      PrintInt(i.ptr(), out_);
    } else if (PyFloat_Check(v)) {
      PrintFloat(PyFloat_AS_DOUBLE(v), out_);
    } else if (IsInstance(v, g_types.decimal)) {
      py::object finite =
          py::reinterpret_steal<py::object>(Check(PyObject_CallMethod(v, "is_finite", nullptr)));
      if (!PyObject_IsTrue(finite.ptr())) {
        Require(g_types.edn_error, "EdnError");
        py::object s = py::reinterpret_steal<py::object>(Check(PyObject_Str(v)));
        PyErr_SetString(g_types.edn_error,
                        ("no EDN form for the decimal " + std::string(Utf8(s.ptr()))).c_str());
        Throw();
      }
      AppendStr(Check(PyObject_Str(v)), out_);
      out_->push_back('M');
    } else if (IsInstance(v, g_types.fraction)) {
      py::object num =
          py::reinterpret_steal<py::object>(Check(PyObject_GetAttrString(v, "numerator")));
      py::object den =
          py::reinterpret_steal<py::object>(Check(PyObject_GetAttrString(v, "denominator")));
      AppendStr(Check(PyObject_Str(num.ptr())), out_);
      int one = PyObject_RichCompareBool(den.ptr(), py::int_(1).ptr(), Py_EQ);
      if (one < 0) Throw();
      if (!one) {
        out_->push_back('/');
        AppendStr(Check(PyObject_Str(den.ptr())), out_);
      }
    } else if (PyUnicode_Check(v)) {
      PrintEdnString(Utf8(v), out_);
    } else if (IsInstance(v, g_types.uuid)) {
      out_->append("#uuid \"");
      AppendStr(Check(PyObject_Str(v)), out_);
      out_->push_back('"');
    } else if (IsDate(v)) {
      Require(g_types.format_inst, "format_inst");
      AppendStr(Call(g_types.format_inst, v), out_);
    } else if (IsInstance(v, g_types.tagged)) {
      py::object tag = py::reinterpret_steal<py::object>(Check(PyObject_GetAttrString(v, "tag")));
      py::object value =
          py::reinterpret_steal<py::object>(Check(PyObject_GetAttrString(v, "value")));
      out_->push_back('#');
      AppendStr(Check(PyObject_Str(tag.ptr())), out_);
      out_->push_back(' ');
      RecursionGuard guard(&depth_, " while printing EDN");
      PrintEdn(value.ptr());
    } else if (IsInstance(v, g_types.edn_type)) {
      AppendStr(Check(PyObject_CallMethod(v, "to_edn", nullptr)), out_);
    } else if (PyList_Check(v) || PyTuple_Check(v)) {
      Items(v, "[", "]", [this](PyObject* x) { PrintEdn(x); });
    } else if (PyObject_HasAttrString(v, "__edn__")) {
      AppendStr(Check(PyObject_CallMethod(v, "__edn__", nullptr)), out_);
    } else {
      py::object type_name = py::reinterpret_steal<py::object>(
          Check(PyObject_GetAttrString(reinterpret_cast<PyObject*>(t), "__name__")));
      py::object repr = py::reinterpret_steal<py::object>(Check(PyObject_Repr(v)));
      PyErr_Format(PyExc_TypeError, "no EDN form for a value of type %U: %U", type_name.ptr(),
                   repr.ptr());
      Throw();
    }
  }

  bool IsDate(PyObject* v) {
    RequireDateTime();
    return PyDate_Check(v);  // datetime is a date subclass
  }

  // dumps's _key: a plain str key is a keyword (or, marked by edn.string(), a string).
  void EdnKey(PyObject* k) {
    if (Py_TYPE(k) != &PyUnicode_Type) {
      PrintEdn(k);
      return;
    }
    KeywordOrMarked(Utf8(k));
  }

  void KeywordOrMarked(std::string_view s) {
    if (Marked(s)) {
      PrintEdnString(s.substr(g_types.string_marker.size()), out_);
    } else if (!s.empty() && s[0] == ':') {
      out_->append(s);
    } else {
      out_->push_back(':');
      out_->append(s);
    }
  }

  // pydatahike's value_to_edn (datahike/_rules.py).
  void PrintPydatahike(PyObject* v) {
    PyTypeObject* t = Py_TYPE(v);
    if (reinterpret_cast<PyObject*>(t) == g_types.keyword || IsInstance(v, g_types.keyword)) {
      AppendStr(Check(PyObject_Str(v)), out_);
    } else if (IsInstance(v, g_types.edn_type) || IsInstance(v, g_types.symbol)) {
      AppendStr(Check(PyObject_CallMethod(v, "to_edn", nullptr)), out_);
    } else if (PyUnicode_Check(v)) {
      std::string_view s = Utf8(v);
      if (Marked(s)) {
        PrintEdnString(s.substr(g_types.string_marker.size()), out_);
      } else if (s.size() >= 2 && s[0] == '\\' && s[1] == ':') {
        PrintEdnString(s.substr(1), out_);
      } else if (!s.empty() && s[0] == ':') {
        out_->append(s);
      } else {
        PrintEdnString(s, out_);
      }
    } else if (PyBool_Check(v)) {
      out_->append(v == Py_True ? "true" : "false");
    } else if (PyFloat_Check(v) && std::isfinite(PyFloat_AS_DOUBLE(v))) {
      AppendStr(Check(PyObject_Str(v)), out_);
    } else if (v == Py_None) {
      out_->append("nil");
    } else if (PyList_Check(v) || PyTuple_Check(v)) {
      Items(v, "[", "]", [this](PyObject* x) { PrintPydatahike(x); });
    } else if (PyAnySet_Check(v)) {
      Items(v, "#{", "}", [this](PyObject* x) { PrintPydatahike(x); });
    } else if (PyDict_Check(v)) {
      MapItems(
          v, [this](PyObject* k) { PydatahikeKey(k); },
          [this](PyObject* x) { PrintPydatahike(x); });
    } else {
      PrintEdn(v);
    }
  }

  // _rules.key_to_keyword: every str key is a keyword (unless marked by edn.string()).
  void PydatahikeKey(PyObject* k) {
    if (IsInstance(k, g_types.keyword)) {
      AppendStr(Check(PyObject_Str(k)), out_);
    } else if (PyUnicode_Check(k)) {
      KeywordOrMarked(Utf8(k));
    } else {
      PrintPydatahike(k);
    }
  }

  PrintRules rules_;
  std::string* out_;
  int depth_ = 0;
};

PyObject* TakeRef(const py::dict& types, const char* name, PyObject* current) {
  if (!types.contains(name)) return current;
  PyObject* o = py::object(types[name]).release().ptr();
  Py_XDECREF(current);
  return o;
}

}  // namespace

void SetEdnTypes(const py::dict& types) {
  EdnTypes& g = g_types;
  g.keyword = TakeRef(types, "Keyword", g.keyword);
  g.symbol = TakeRef(types, "Symbol", g.symbol);
  g.chr = TakeRef(types, "Char", g.chr);
  g.bigint = TakeRef(types, "BigInt", g.bigint);
  g.list = TakeRef(types, "List", g.list);
  g.frozen_list = TakeRef(types, "FrozenList", g.frozen_list);
  g.tagged = TakeRef(types, "Tagged", g.tagged);
  g.frozen_dict = TakeRef(types, "FrozenDict", g.frozen_dict);
  g.edn = TakeRef(types, "Edn", g.edn);
  g.edn_type = TakeRef(types, "EDNType", g.edn_type);
  g.edn_error = TakeRef(types, "EdnError", g.edn_error);
  g.decimal = TakeRef(types, "Decimal", g.decimal);
  g.fraction = TakeRef(types, "Fraction", g.fraction);
  g.uuid = TakeRef(types, "uuid.UUID", g.uuid);
  g.format_inst = TakeRef(types, "format_inst", g.format_inst);
  g.parse_inst = TakeRef(types, "parse_inst", g.parse_inst);
  g.char_text = TakeRef(types, "char_text", g.char_text);
  if (types.contains("STRING_MARKER")) g.string_marker = py::str(types["STRING_MARKER"]);
  // A new Keyword class makes the cached keywords stale.
  if (types.contains("Keyword")) {
    for (auto& [t, o] : KeywordCache()) Py_DECREF(o);
    KeywordCache().clear();
  }
}

bool IsEdnText(PyObject* v) {
  return PyUnicode_CheckExact(v) || (g_types.edn != nullptr && IsInstance(v, g_types.edn));
}

py::object ReadEdn(std::string_view text) { return Reader(text).ReadAll(); }

void PrintEdn(PyObject* v, PrintRules rules, std::string* out) { Printer(rules, out).Print(v); }

void PrintEdnString(std::string_view s, std::string* out) {
  static const char kHex[] = "0123456789abcdef";
  out->reserve(out->size() + s.size() + 2);
  out->push_back('"');
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      default:
        if (u < 0x20 || u == 0x7f) {
          out->append("\\u00");
          out->push_back(kHex[u >> 4]);
          out->push_back(kHex[u & 0xF]);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

}  // namespace datahike_python
