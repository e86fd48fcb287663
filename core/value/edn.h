// EDN text <-> Value.
//
// The reader accepts all of EDN: nil, true/false, integers (with N for bigints; integers that do not
// fit in 64 bits become bigints), floats (with M for bigdecs), strings with every escape (\t \r \n \\ \"
// \b \f \uXXXX), characters (\a \newline \space \tab \return \backspace \formfeed \uXXXX), keywords and
// symbols with namespaces, lists, vectors, maps, sets, #inst "RFC3339", #uuid "..." and #bytes "base64"
// tags, the #_ discard, `;` comments and commas as whitespace. Errors throw datahike::Error of kind
// kParse with a message that gives line and column ("EDN parse error at line 3, column 7: ...").
//
// The printer writes values back so that reading the text gives an equal value (including the bigdec
// kind, bigint `N`, characters and instants to the millisecond; a float prints like a double and reads
// back as an equal double).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/value/value.h"

namespace datahike::edn {

// Reads exactly one value; trailing whitespace/comments are allowed, anything else is an error.
Value Read(std::string_view text);
// Reads all top-level values in the text.
std::vector<Value> ReadAll(std::string_view text);

// Appends the EDN text of v to out.
void Print(const Value& v, std::string& out);
std::string ToString(const Value& v);

}  // namespace datahike::edn
