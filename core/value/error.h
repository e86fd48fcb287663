// The one error type of the engine: a kind, a message and EDN data. Every layer throws it; the C ABI
// turns it into a status code and an EDN error map.
#pragma once

#include <exception>
#include <string>
#include <utility>

#include "core/value/value.h"

namespace datahike {

enum class ErrorKind {
  kParse,        // malformed EDN/JSON or query text
  kSchema,       // schema violation or invalid schema change
  kTransaction,  // invalid tx-data, failed cas, unique conflict, ...
  kQuery,        // invalid query or query failure
  kNotFound,     // database or entity missing
  kStorage,      // storage I/O or corrupt data
  kConflict,     // a concurrent writer or lock held elsewhere
  kMisuse,       // API misuse: bad config, released handle, wrong argument
  kInternal,     // a bug
};

// The EDN keyword of a kind, e.g. "schema/violation" (without ':').
const char* ErrorKindName(ErrorKind kind);

class Error : public std::exception {
 public:
  Error(ErrorKind kind, std::string message, Value data = Value())
      : kind_(kind), message_(std::move(message)), data_(std::move(data)) {}
  ErrorKind kind() const { return kind_; }
  const std::string& message() const { return message_; }
  const Value& data() const { return data_; }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  ErrorKind kind_;
  std::string message_;
  Value data_;
};

}  // namespace datahike
