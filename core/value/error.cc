#include "core/value/error.h"

namespace datahike {

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kParse: return "parse/error";
    case ErrorKind::kSchema: return "schema/violation";
    case ErrorKind::kTransaction: return "transaction/error";
    case ErrorKind::kQuery: return "query/error";
    case ErrorKind::kNotFound: return "not-found";
    case ErrorKind::kStorage: return "storage/error";
    case ErrorKind::kConflict: return "conflict";
    case ErrorKind::kMisuse: return "misuse";
    case ErrorKind::kInternal: return "internal";
  }
  return "internal";
}

}  // namespace datahike
