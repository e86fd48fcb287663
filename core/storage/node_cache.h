// A sharded LRU cache of immutable objects by node id, charged by size. Used by CachedStore for
// raw blobs; the index layer may keep one of decoded nodes the same way.
//
// Thread-safe: 16 shards, each a mutex, a hash map and an intrusive recency list. A hit is one
// uncontended lock, one hash probe and one shared_ptr copy (about 50-100 ns).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace datahike::storage {

template <typename T>
class NodeCache {
 public:
  // `capacity_bytes` is split evenly over the shards; 0 caches nothing.
  explicit NodeCache(size_t capacity_bytes) : shard_capacity_(capacity_bytes / kShards) {}

  // The cached object, or nullptr.
  std::shared_ptr<const T> Get(uint64_t id) {
    Shard& s = ShardOf(id);
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.map.find(id);
    if (it == s.map.end()) return nullptr;
    s.lru.splice(s.lru.begin(), s.lru, it->second);  // most recently used to the front
    return it->second->value;
  }

  // Inserts (or replaces) the object charged `charge` bytes, evicting the least recently used
  // entries of its shard beyond capacity. An object larger than a shard is not cached.
  void Put(uint64_t id, std::shared_ptr<const T> value, size_t charge) {
    Shard& s = ShardOf(id);
    if (charge > shard_capacity_) return;
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.map.find(id);
    if (it != s.map.end()) {
      s.used -= it->second->charge;
      s.lru.erase(it->second);
      s.map.erase(it);
    }
    s.lru.push_front(Entry{id, std::move(value), charge});
    s.map.emplace(id, s.lru.begin());
    s.used += charge;
    while (s.used > shard_capacity_) {
      Entry& last = s.lru.back();
      s.used -= last.charge;
      s.map.erase(last.id);
      s.lru.pop_back();
    }
  }

  void Erase(uint64_t id) {
    Shard& s = ShardOf(id);
    std::lock_guard<std::mutex> lock(s.mu);
    auto it = s.map.find(id);
    if (it == s.map.end()) return;
    s.used -= it->second->charge;
    s.lru.erase(it->second);
    s.map.erase(it);
  }

  // Bytes charged across the shards (a snapshot).
  size_t used_bytes() {
    size_t total = 0;
    for (Shard& s : shards_) {
      std::lock_guard<std::mutex> lock(s.mu);
      total += s.used;
    }
    return total;
  }

 private:
  static constexpr size_t kShards = 16;
  struct Entry {
    uint64_t id;
    std::shared_ptr<const T> value;
    size_t charge;
  };
  struct Shard {
    std::mutex mu;
    std::list<Entry> lru;
    std::unordered_map<uint64_t, typename std::list<Entry>::iterator> map;
    size_t used = 0;
  };
  Shard& ShardOf(uint64_t id) {
    // Ids are handed out sequentially; mix them so neighbours land in different shards.
    uint64_t h = id * 0x9e3779b97f4a7c15ull;
    return shards_[h >> 60];
  }

  const size_t shard_capacity_;
  std::array<Shard, kShards> shards_;
};

}  // namespace datahike::storage
