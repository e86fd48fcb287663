// The backends' entry points, dispatched from store.cc (internal to core/storage).
#pragma once

#include <memory>

#include "core/storage/store.h"

namespace datahike::storage {

std::unique_ptr<Store> OpenMemoryStore(const StoreConfig& config, OpenMode mode);
bool MemoryStoreExists(const StoreConfig& config);
void DestroyMemoryStore(const StoreConfig& config);

std::unique_ptr<Store> OpenFileStore(const StoreConfig& config, OpenMode mode);
bool FileStoreExists(const StoreConfig& config);
void DestroyFileStore(const StoreConfig& config);

std::unique_ptr<Store> OpenLevelDbStore(const StoreConfig& config, OpenMode mode);
bool LevelDbStoreExists(const StoreConfig& config);
void DestroyLevelDbStore(const StoreConfig& config);

}  // namespace datahike::storage
