// JSON text <-> Value, the mapping of the C ABI (DESIGN.md §7).
//
// Input: objects become maps whose keys are keywords (a key "db/id" or ":db/id" is the keyword
// :db/id); a string value starting with ":" is a keyword (":db.type/string"); a string starting with
// "\\:" is the literal string that follows the backslash; arrays become vectors; integers that fit in
// 64 bits become longs, larger ones bigints; other numbers doubles; true/false/null.
// Output, the mirror: keywords print as ":ns/name" strings, except as map keys where they print as
// "ns/name"; a string that starts with ':' prints with a leading backslash; symbols as strings; sets
// and lists as arrays; uuids as strings; instants as ISO-8601 strings ("2020-01-01T00:00:00.000Z");
// bigints and bigdecs as JSON numbers; chars as one-character strings; non-string map keys print as
// their EDN text.
// Malformed JSON throws datahike::Error kParse with line and column.
#pragma once

#include <string>
#include <string_view>

#include "core/value/value.h"

namespace datahike::json {

Value Read(std::string_view text);
void Print(const Value& v, std::string& out);
std::string ToString(const Value& v);

}  // namespace datahike::json
