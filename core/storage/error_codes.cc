#include "core/storage/error_codes.h"

#include <cstring>

namespace datahike::storage {

void ThrowStorageError(ErrorKind kind, std::string_view code, std::string message,
                       std::vector<std::pair<Value, Value>> extra) {
  std::vector<std::pair<Value, Value>> data;
  data.reserve(extra.size() + 1);
  data.emplace_back(Kw("error"), Kw(code));
  for (auto& kv : extra) data.push_back(std::move(kv));
  throw Error(kind, std::move(message), Value::Map(std::move(data)));
}

void ThrowCorrupt(std::string message) {
  ThrowStorageError(ErrorKind::kStorage, "storage/corrupt", std::move(message));
}

void ThrowIo(const std::string& what, int err) {
  std::string message = what;  // appended, not `what + ": " + ...` (GCC 12 -Wrestrict noise)
  message.append(": ").append(std::strerror(err));
  ThrowStorageError(ErrorKind::kStorage, "storage/io", std::move(message),
                    {{Kw("errno"), Value::Long(err)}});
}

std::string StorageErrorCode(const Error& e) {
  if (!e.data().is_map()) return "";
  const Value* code = e.data().get("error");
  if (code == nullptr || !code->is_keyword()) return "";
  return code->as_named()->full;
}

}  // namespace datahike::storage
