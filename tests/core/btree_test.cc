#include "core/index/btree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <limits>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/index/datom.h"
#include "core/index/lazy_index.h"

namespace datahike::index {
namespace {

// Small capacities force deep trees and frequent splits, merges and redistributions.
using TinyTree = PersistentTree<int, std::less<int>, 4, 4>;
using OddTree = PersistentTree<int, std::less<int>, 5, 7>;
using MidTree = PersistentTree<int, std::less<int>, 16, 8>;
using WideTree = PersistentTree<int, std::less<int>>;
using DatomTree = PersistentTree<Datom, EavtLess>;

// A non-trivial element: ordered by key only, so Insert of an equal key replaces the payload.
struct Entry {
  int key = 0;
  std::string payload;
};
struct EntryLess {
  bool operator()(const Entry& a, const Entry& b) const { return a.key < b.key; }
};
using EntryTree = PersistentTree<Entry, EntryLess, 6, 4>;

template <class T, class Less>
bool Same(const T& a, const T& b) {
  return !Less()(a, b) && !Less()(b, a);
}

template <class Tree, class T>
std::vector<T> Contents(const Tree& t) {
  std::vector<T> out;
  t.ForEach([&](const T& e) { out.push_back(e); });
  return out;
}

// Checks structure and contents three ways: ForEach, forward iteration, backward iteration.
template <class Tree, class Model>
void ExpectEqual(const Tree& t, const Model& m) {
  using T = typename Model::value_type;
  using Less = typename Model::key_compare;
  ASSERT_EQ(t.CheckInvariants(), "");
  ASSERT_EQ(t.size(), m.size());
  ASSERT_EQ(t.empty(), m.empty());
  std::vector<T> each = Contents<Tree, T>(t);
  ASSERT_TRUE(std::equal(each.begin(), each.end(), m.begin(), m.end(), Same<T, Less>));
  auto mi = m.begin();
  size_t n = 0;
  for (auto it = t.Begin(); it.Valid(); it.Next(), ++mi, ++n) {
    ASSERT_TRUE(mi != m.end());
    ASSERT_TRUE((Same<T, Less>(*it, *mi)));
  }
  ASSERT_EQ(n, m.size());
  auto ri = m.rbegin();
  n = 0;
  for (auto it = t.Last(); it.Valid(); it.Prev(), ++ri, ++n) {
    ASSERT_TRUE(ri != m.rend());
    ASSERT_TRUE((Same<T, Less>(*it, *ri)));
  }
  ASSERT_EQ(n, m.size());
  if (m.empty()) {
    ASSERT_EQ(t.Max(), nullptr);
  } else {
    ASSERT_NE(t.Max(), nullptr);
    ASSERT_TRUE((Same<T, Less>(*t.Max(), *m.rbegin())));
  }
}

// Walks a tree iterator and a model iterator in lockstep for a few steps in one direction.
template <class It, class MIt, class Model>
void ExpectWalk(It it, MIt mi, const Model& m, bool forward, int steps) {
  using T = typename Model::value_type;
  using Less = typename Model::key_compare;
  for (int s = 0; s < steps; ++s) {
    if (mi == m.end()) {
      ASSERT_FALSE(it.Valid());
      return;
    }
    ASSERT_TRUE(it.Valid());
    ASSERT_TRUE((Same<T, Less>(*it, *mi)));
    if (forward) {
      it.Next();
      ++mi;
    } else {
      it.Prev();
      mi = mi == m.begin() ? m.end() : std::prev(mi);
    }
  }
}

// Rank and CountRange at random bounds, against positions in a sorted copy of the model.
template <class Tree, class Model, class Gen>
void ExpectRanks(const Tree& t, const Model& m, Gen& gen, std::mt19937_64& rng, int probes) {
  using T = typename Model::value_type;
  using Less = typename Model::key_compare;
  std::vector<T> v(m.begin(), m.end());
  auto rank = [&](const T& x) {
    return static_cast<size_t>(std::lower_bound(v.begin(), v.end(), x, Less()) - v.begin());
  };
  for (int i = 0; i < probes; ++i) {
    T x = gen(rng);
    T y = gen(rng);
    ASSERT_EQ(t.Rank(x), rank(x));
    ASSERT_EQ(t.CountRange(x, y), Less()(x, y) ? rank(y) - rank(x) : 0);
    if (!v.empty()) {
      const T& e = v[rng() % v.size()];
      ASSERT_EQ(t.CountRange(e, y), Less()(e, y) ? rank(y) - rank(e) : 0);
      ASSERT_EQ(t.CountRange(x, e), Less()(x, e) ? rank(e) - rank(x) : 0);
    }
  }
}

// Random operations against a std::set model. Every `batch` operations the tree is checked in full
// and kept, with a snapshot of the model, as an old version; at the end every old version must
// still equal its snapshot.
template <class Tree, class Model, class Gen>
void RunModel(Gen gen, int ops, int batch, uint64_t seed, size_t initial) {
  using T = typename Model::value_type;
  using Less = typename Model::key_compare;
  std::mt19937_64 rng(seed);
  Model m;
  while (m.size() < initial) m.insert(gen(rng));
  Tree t = Tree::FromSorted(std::vector<T>(m.begin(), m.end()));
  ASSERT_NO_FATAL_FAILURE(ExpectEqual(t, m));
  std::vector<std::pair<Tree, Model>> versions;
  std::uniform_int_distribution<int> pct(0, 99);
  for (int op = 0; op < ops; ++op) {
    // Alternate growing and shrinking phases.
    const bool growing = (op / 5000) % 2 == 0;
    const int insert_pct = growing ? 55 : 15;
    const int erase_pct = growing ? 15 : 55;
    int r = pct(rng);
    T x = gen(rng);
    if (r < insert_pct) {
      t = t.Insert(x);
      m.insert(x);
    } else if ((r -= insert_pct) < erase_pct) {
      Tree u = t.Erase(x);
      bool erased = m.erase(x) > 0;
      ASSERT_EQ(u.SameRoot(t), !erased);
      t = u;
    } else if ((r -= erase_pct) < 8) {
      const T* f = t.Find(x);
      ASSERT_EQ(f != nullptr, m.count(x) > 0);
      ASSERT_EQ(t.Contains(x), m.count(x) > 0);
      if (f) {
        ASSERT_TRUE((Same<T, Less>(*f, x)));
      }
    } else if ((r -= 8) < 6) {
      ASSERT_NO_FATAL_FAILURE(ExpectWalk(t.LowerBound(x), m.lower_bound(x), m, true, 5));
      ASSERT_NO_FATAL_FAILURE(ExpectWalk(t.UpperBound(x), m.upper_bound(x), m, true, 5));
    } else if ((r -= 6) < 6) {
      auto mi = m.lower_bound(x);
      ASSERT_NO_FATAL_FAILURE(ExpectWalk(t.LowerBound(x), mi, m, false, 5));
    } else if ((r -= 6) < 5) {
      // Local counts around x (full ranks are checked at batch ends by ExpectRanks).
      auto mi = m.lower_bound(x);
      if (mi != m.end()) {
        ASSERT_EQ(t.CountRange(x, *mi), 0u);
        if (std::next(mi) != m.end()) {
          ASSERT_EQ(t.CountRange(*mi, *std::next(mi)), 1u);
        }
      }
      if (mi != m.begin()) {
        ASSERT_EQ(t.CountRange(*std::prev(mi), x), 1u);
      }
    } else {
      // A short transient batch, mirrored in the model; sometimes re-checks the version it came
      // from.
      const bool check_base = rng() % 16 == 0 && m.size() < 20000;
      Model before = check_base ? m : Model();
      Tree base = t;
      auto tr = t.AsTransient();
      int k = 1 + static_cast<int>(rng() % 40);
      for (int j = 0; j < k; ++j) {
        T y = gen(rng);
        if (rng() % 3 != 0) {
          ASSERT_EQ(tr.Insert(y), m.insert(y).second);
        } else {
          ASSERT_EQ(tr.Erase(y), m.erase(y) > 0);
        }
        ASSERT_EQ(tr.size(), m.size());
        ASSERT_EQ(tr.Contains(y), m.count(y) > 0);
      }
      t = tr.Persistent();
      if (check_base) {
        ASSERT_NO_FATAL_FAILURE(ExpectEqual(base, before));
      }
    }
    if ((op + 1) % batch == 0) {
      ASSERT_NO_FATAL_FAILURE(ExpectEqual(t, m));
      ASSERT_NO_FATAL_FAILURE(ExpectRanks(t, m, gen, rng, 100));
      versions.emplace_back(t, m);
    }
  }
  for (const auto& [tree, model] : versions) ASSERT_NO_FATAL_FAILURE(ExpectEqual(tree, model));
}

template <class Tree>
class IntTreeTest : public ::testing::Test {};
using IntTrees = ::testing::Types<TinyTree, OddTree, MidTree, WideTree>;
TYPED_TEST_SUITE(IntTreeTest, IntTrees);

TYPED_TEST(IntTreeTest, ModelRandomOps) {
  auto gen = [](std::mt19937_64& rng) { return static_cast<int>(rng() % 6000); };
  RunModel<TypeParam, std::set<int>>(gen, 120000, 1000, 42, 0);
}

TYPED_TEST(IntTreeTest, ModelRandomOpsFromLargeBase) {
  // A large starting tree gives WideTree three levels.
  auto gen = [](std::mt19937_64& rng) { return static_cast<int>(rng() % 400000); };
  RunModel<TypeParam, std::set<int>>(gen, 40000, 4000, 7, 100000);
}

TYPED_TEST(IntTreeTest, GrowThenDrainToEmpty) {
  std::mt19937_64 rng(3);
  std::vector<int> keys(5000);
  for (int i = 0; i < 5000; ++i) keys[i] = i * 3;
  std::shuffle(keys.begin(), keys.end(), rng);
  TypeParam t;
  std::set<int> m;
  for (int k : keys) {
    t = t.Insert(k);
    m.insert(k);
  }
  ASSERT_NO_FATAL_FAILURE(ExpectEqual(t, m));
  std::shuffle(keys.begin(), keys.end(), rng);
  for (size_t i = 0; i < keys.size(); ++i) {
    t = t.Erase(keys[i]);
    m.erase(keys[i]);
    if (i % 97 == 0 || m.size() < 300) {
      ASSERT_EQ(t.CheckInvariants(), "") << i;
    }
  }
  EXPECT_TRUE(t.empty());
  EXPECT_TRUE(t.SameRoot(TypeParam()));
  EXPECT_FALSE(t.Begin().Valid());
  EXPECT_FALSE(t.Last().Valid());
  EXPECT_FALSE(t.LowerBound(5).Valid());
  EXPECT_EQ(t.CountRange(0, 100), 0u);
}

TYPED_TEST(IntTreeTest, FromSortedSizes) {
  constexpr size_t kLeaf = std::is_same_v<TypeParam, WideTree> ? 128 : 0;
  std::vector<size_t> sizes = {0, 1, 2, 3, 4, 5, 6, 7, 8, 15, 16, 17, 63, 64, 65, 127, 128, 129,
                               255, 256, 257, 1000, 4097, 100000};
  if (kLeaf != 0) {
    for (size_t s : {kLeaf - 1, kLeaf, kLeaf + 1, kLeaf * 64 - 1, kLeaf * 64, kLeaf * 64 + 1}) {
      sizes.push_back(s);
    }
  }
  for (size_t n : sizes) {
    std::vector<int> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<int>(2 * i);
    std::set<int> m(v.begin(), v.end());
    TypeParam t = TypeParam::FromSorted(v);
    ASSERT_NO_FATAL_FAILURE(ExpectEqual(t, m)) << n;
    // The built tree accepts further updates.
    t = t.Insert(-1).Insert(static_cast<int>(2 * n + 1)).Erase(0);
    m.insert(-1);
    m.insert(static_cast<int>(2 * n + 1));
    m.erase(0);
    ASSERT_NO_FATAL_FAILURE(ExpectEqual(t, m)) << n;
  }
}

TYPED_TEST(IntTreeTest, TransientEquivalentToPersistent) {
  std::mt19937_64 rng(11);
  TypeParam base = TypeParam::FromSorted({1, 5, 9, 13, 17, 21});
  const std::vector<int> base_contents = Contents<TypeParam, int>(base);
  TypeParam p = base;
  auto tr = base.AsTransient();
  for (int i = 0; i < 20000; ++i) {
    int x = static_cast<int>(rng() % 3000);
    if (rng() % 4 == 0) {
      size_t before = p.size();
      p = p.Erase(x);
      ASSERT_EQ(tr.Erase(x), p.size() < before);
    } else {
      size_t before = p.size();
      p = p.Insert(x);
      ASSERT_EQ(tr.Insert(x), p.size() > before);
    }
    ASSERT_EQ(tr.size(), p.size());
  }
  TypeParam t = tr.Persistent();
  ASSERT_EQ(t.CheckInvariants(), "");
  EXPECT_EQ((Contents<TypeParam, int>(t)), (Contents<TypeParam, int>(p)));
  // The version the transient started from is untouched.
  ASSERT_EQ(base.CheckInvariants(), "");
  EXPECT_EQ((Contents<TypeParam, int>(base)), base_contents);

  // A second transient from the result must not mutate nodes the first transient created.
  const std::vector<int> t_contents = Contents<TypeParam, int>(t);
  auto tr2 = t.AsTransient();
  for (int i = 0; i < 5000; ++i) tr2.Insert(static_cast<int>(rng() % 6000));
  for (int i = 0; i < 5000; ++i) tr2.Erase(static_cast<int>(rng() % 6000));
  TypeParam t2 = tr2.Persistent();
  ASSERT_EQ(t2.CheckInvariants(), "");
  EXPECT_EQ((Contents<TypeParam, int>(t)), t_contents);
  ASSERT_EQ(t.CheckInvariants(), "");
}

TYPED_TEST(IntTreeTest, TransientFromEmptyAndToEmpty) {
  TypeParam empty;
  auto tr = empty.AsTransient();
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE(tr.Insert(i));
  ASSERT_FALSE(tr.Insert(7));
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE(tr.Erase(i));
  ASSERT_FALSE(tr.Erase(7));
  TypeParam t = tr.Persistent();
  EXPECT_TRUE(t.empty());
  EXPECT_EQ(t.CheckInvariants(), "");
  EXPECT_TRUE(empty.empty());
}

TYPED_TEST(IntTreeTest, TransientCursorsSeeCurrentContents) {
  TypeParam base = TypeParam::FromSorted({10, 20, 30});
  auto tr = base.AsTransient();
  for (int i = 0; i < 500; ++i) tr.Insert(i * 2 + 1);
  tr.Erase(20);
  std::vector<int> seen;
  for (auto it = tr.Begin(); it.Valid(); it.Next()) seen.push_back(*it);
  std::vector<int> want;
  for (int i = 0; i < 500; ++i) want.push_back(i * 2 + 1);
  want.push_back(10);
  want.push_back(30);
  std::sort(want.begin(), want.end());
  EXPECT_EQ(seen, want);
  auto it = tr.Seek([](int e) { return e < 29 ? -1 : (e > 29 ? 1 : 0); });
  ASSERT_TRUE(it.Valid());
  EXPECT_EQ(*it, 29);
  it.Next();
  EXPECT_EQ(*it, 30);
  EXPECT_FALSE(tr.Seek([](int) { return -1; }).Valid());
  TypeParam t = tr.Persistent();
  EXPECT_EQ(t.size(), 502u);
  EXPECT_EQ((Contents<TypeParam, int>(base)), (std::vector<int>{10, 20, 30}));
}

TYPED_TEST(IntTreeTest, EraseAbsentKeepsRoot) {
  TypeParam t = TypeParam::FromSorted({2, 4, 6, 8, 10, 12, 14, 16, 18, 20});
  EXPECT_TRUE(t.Erase(5).SameRoot(t));
  EXPECT_TRUE(t.Erase(0).SameRoot(t));
  EXPECT_TRUE(t.Erase(21).SameRoot(t));
  EXPECT_FALSE(t.Erase(4).SameRoot(t));
  EXPECT_FALSE(t.Insert(5).SameRoot(t));
}

TEST(PersistentTreeTest, InsertReplacesEqualElement) {
  EntryTree t;
  for (int i = 0; i < 100; ++i) t = t.Insert(Entry{i, "old" + std::to_string(i)});
  EntryTree u = t.Insert(Entry{37, "new"}).Insert(Entry{99, "last"});
  EXPECT_EQ(u.size(), 100u);
  EXPECT_EQ(u.Find(Entry{37, ""})->payload, "new");
  EXPECT_EQ(u.Find(Entry{99, ""})->payload, "last");
  EXPECT_EQ(u.Last()->payload, "last");
  EXPECT_EQ(t.Find(Entry{37, ""})->payload, "old37");
  EXPECT_EQ(u.CheckInvariants(), "");
  auto tr = u.AsTransient();
  EXPECT_FALSE(tr.Insert(Entry{37, "newer"}));
  EXPECT_TRUE(tr.Insert(Entry{100, "x"}));
  EntryTree w = tr.Persistent();
  EXPECT_EQ(w.Find(Entry{37, ""})->payload, "newer");
  EXPECT_EQ(u.Find(Entry{37, ""})->payload, "new");
}

TEST(PersistentTreeTest, EntryModel) {
  auto gen = [](std::mt19937_64& rng) {
    int k = static_cast<int>(rng() % 3000);
    return Entry{k, std::string(20, static_cast<char>('a' + k % 26))};
  };
  RunModel<EntryTree, std::set<Entry, EntryLess>>(gen, 30000, 1000, 5, 0);
}

// Composite keys for prefix probes.
struct Pair {
  int a;
  int b;
};
struct PairLess {
  bool operator()(const Pair& x, const Pair& y) const { return x.a != y.a ? x.a < y.a : x.b < y.b; }
};

template <class Tree>
void CheckPrefixSeeks(const Tree& t, const std::vector<Pair>& all) {
  for (int target = -2; target <= 52; ++target) {
    auto probe = [target](const Pair& e) { return e.a < target ? -1 : (e.a > target ? 1 : 0); };
    const size_t in_prefix = static_cast<size_t>(
        std::count_if(all.begin(), all.end(), [&](const Pair& p) { return p.a == target; }));
    // Seek: first with a >= target.
    auto first = std::find_if(all.begin(), all.end(), [&](const Pair& p) { return p.a >= target; });
    auto it = t.Seek(probe);
    if (first == all.end()) {
      EXPECT_FALSE(it.Valid()) << target;
    } else {
      ASSERT_TRUE(it.Valid()) << target;
      EXPECT_EQ(it->a, first->a);
      EXPECT_EQ(it->b, first->b);
      // Forward scan of the prefix.
      size_t n = 0;
      for (; it.Valid() && probe(*it) == 0; it.Next()) ++n;
      EXPECT_EQ(n, in_prefix);
    }
    // SeekLastAtOrBefore: last with a <= target.
    auto last =
        std::find_if(all.rbegin(), all.rend(), [&](const Pair& p) { return p.a <= target; });
    auto rit = t.SeekLastAtOrBefore(probe);
    if (last == all.rend()) {
      EXPECT_FALSE(rit.Valid()) << target;
    } else {
      ASSERT_TRUE(rit.Valid()) << target;
      EXPECT_EQ(rit->a, last->a);
      EXPECT_EQ(rit->b, last->b);
      size_t n = 0;
      for (; rit.Valid() && probe(*rit) == 0; rit.Prev()) ++n;
      EXPECT_EQ(n, in_prefix);
    }
  }
}

TEST(PersistentTreeTest, PrefixSeeks) {
  std::mt19937_64 rng(9);
  std::set<Pair, PairLess> m;
  // Prefixes 0..50, some absent, some with many elements spanning several leaves.
  for (int a = 0; a <= 50; ++a) {
    if (a % 7 == 3) continue;
    int n = a % 5 == 0 ? 200 : static_cast<int>(rng() % 6);
    for (int b = 0; b < n; ++b) m.insert(Pair{a, b});
  }
  std::vector<Pair> all(m.begin(), m.end());
  auto small = PersistentTree<Pair, PairLess, 4, 4>::FromSorted(all);
  auto wide = PersistentTree<Pair, PairLess>::FromSorted(all);
  CheckPrefixSeeks(small, all);
  CheckPrefixSeeks(wide, all);
  // Also on a tree shaped by inserts and erases rather than FromSorted.
  PersistentTree<Pair, PairLess, 4, 4> grown;
  std::vector<Pair> shuffled = all;
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  for (const Pair& p : shuffled) grown = grown.Insert(p);
  grown = grown.Insert(Pair{60, 0}).Erase(Pair{60, 0});
  CheckPrefixSeeks(grown, all);
  // Empty tree.
  PersistentTree<Pair, PairLess> none;
  EXPECT_FALSE(none.Seek([](const Pair&) { return 0; }).Valid());
  EXPECT_FALSE(none.SeekLastAtOrBefore([](const Pair&) { return 0; }).Valid());
}

// A fake durable store: nodes "serialized" (detached from their children) into a map by address.
template <class Tree>
class MapSource : public Tree::NodeSource {
 public:
  using Node = typename Tree::Node;

  std::shared_ptr<const Node> Load(uint64_t address) const override {
    loads_.fetch_add(1);
    std::lock_guard<std::mutex> lock(mu_);
    auto it = nodes_.find(address);
    return it == nodes_.end() ? nullptr : it->second;
  }

  // Stores every unstored node of t; returns how many nodes were written.
  size_t Store(const Tree& t) {
    size_t written = 0;
    t.AssignAddresses([&](const Node& n) {
      uint64_t address = next_++;
      std::shared_ptr<const Node> copy;
      if (n.is_leaf()) {
        copy = Node::MakeLeaf(n.keys(), address);
      } else {
        std::vector<uint64_t> children;
        for (size_t i = 0; i < n.num_children(); ++i) {
          EXPECT_NE(n.child_address(i), 0u);  // children are stored first
          children.push_back(n.child_address(i));
        }
        copy = Node::MakeBranch(n.keys(), children, n.counts(), address);
      }
      std::lock_guard<std::mutex> lock(mu_);
      nodes_[address] = std::move(copy);
      ++written;
      return address;
    });
    return written;
  }

  void Drop(uint64_t address) {
    std::lock_guard<std::mutex> lock(mu_);
    nodes_.erase(address);
  }
  size_t loads() const { return loads_.load(); }
  size_t stored() const {
    std::lock_guard<std::mutex> lock(mu_);
    return nodes_.size();
  }

 private:
  mutable std::mutex mu_;
  mutable std::atomic<size_t> loads_{0};
  std::map<uint64_t, std::shared_ptr<const Node>> nodes_;
  uint64_t next_ = 1000;
};

template <class Tree>
size_t CountNodes(const Tree& t) {
  size_t n = 0;
  t.VisitNodes([&](const typename Tree::Node&) { ++n; });
  return n;
}

template <class Tree>
void LazyLoadingScenario(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::set<int> m;
  while (m.size() < n) m.insert(static_cast<int>(rng() % (n * 10)));
  Tree built = Tree::FromSorted(std::vector<int>(m.begin(), m.end()));
  auto source = std::make_shared<MapSource<Tree>>();
  const size_t nodes = CountNodes(built);
  EXPECT_EQ(source->Store(built), nodes);
  EXPECT_NE(built.root_address(), 0u);
  EXPECT_EQ(source->Store(built), 0u);  // everything has an address now

  Tree opened = Tree::Open(built.root_address(), source);
  EXPECT_EQ(source->loads(), 1u);  // only the root
  EXPECT_EQ(opened.size(), m.size());
  EXPECT_FALSE(opened.SameRoot(built));

  // A point lookup loads one node per level below the root, once.
  int probe = *std::next(m.begin(), static_cast<long>(m.size() / 2));
  ASSERT_NE(opened.Find(probe), nullptr);
  const size_t after_find = source->loads();
  EXPECT_LE(after_find, 1 + 8u);
  ASSERT_NE(opened.Find(probe), nullptr);
  EXPECT_EQ(source->loads(), after_find);

  ASSERT_NO_FATAL_FAILURE(ExpectEqual(opened, m));
  EXPECT_EQ(source->loads(), nodes);  // each stored node loaded exactly once
  ASSERT_NO_FATAL_FAILURE(ExpectEqual(opened, m));
  EXPECT_EQ(source->loads(), nodes);
  for (int i = 0; i < 200; ++i) {
    int x = static_cast<int>(rng() % (n * 10));
    int y = static_cast<int>(rng() % (n * 10));
    size_t want =
        x < y ? static_cast<size_t>(std::distance(m.lower_bound(x), m.lower_bound(y))) : 0;
    ASSERT_EQ(opened.CountRange(x, y), want);
  }

  // Updates on a freshly opened (mostly unloaded) tree, persistent and transient.
  Tree fresh = Tree::Open(built.root_address(), source);
  std::set<int> m2 = m;
  Tree p = fresh;
  for (int i = 0; i < 300; ++i) {
    int x = static_cast<int>(rng() % (n * 10));
    if (i % 3 == 0) {
      int victim = *std::next(m2.begin(), static_cast<long>(rng() % m2.size()));
      p = p.Erase(victim);
      m2.erase(victim);
    } else {
      p = p.Insert(x);
      m2.insert(x);
    }
  }
  ASSERT_NO_FATAL_FAILURE(ExpectEqual(p, m2));
  EXPECT_EQ(p.source(), fresh.source());

  auto tr = Tree::Open(built.root_address(), source).AsTransient();
  std::set<int> m3 = m;
  for (int i = 0; i < 2000; ++i) {
    int x = static_cast<int>(rng() % (n * 10));
    if (i % 2 == 0) {
      ASSERT_EQ(tr.Insert(x), m3.insert(x).second);
    } else {
      ASSERT_EQ(tr.Erase(x), m3.erase(x) > 0);
    }
  }
  Tree t3 = tr.Persistent();
  ASSERT_NO_FATAL_FAILURE(ExpectEqual(t3, m3));

  // Incremental store: only nodes created by the updates get written, and the result reopens
  // intact.
  size_t unstored = 0;
  t3.VisitNodes([&](const typename Tree::Node& node) {
    if (node.address() != 0) return false;
    ++unstored;
    return true;
  });
  EXPECT_GT(unstored, 0u);
  EXPECT_EQ(source->Store(t3), unstored);
  Tree reopened = Tree::Open(t3.root_address(), source);
  ASSERT_NO_FATAL_FAILURE(ExpectEqual(reopened, m3));
  // The original stored version is unaffected.
  ASSERT_NO_FATAL_FAILURE(ExpectEqual(Tree::Open(built.root_address(), source), m));
}

TEST(PersistentTreeTest, LazyLoadingTiny) { LazyLoadingScenario<TinyTree>(3000, 1); }
TEST(PersistentTreeTest, LazyLoadingWide) { LazyLoadingScenario<WideTree>(100000, 2); }

TEST(PersistentTreeTest, LazyLoadingEmptyAndMissing) {
  auto source = std::make_shared<MapSource<TinyTree>>();
  TinyTree empty = TinyTree::Open(0, source);
  EXPECT_TRUE(empty.empty());
  empty = empty.Insert(3);
  EXPECT_EQ(empty.size(), 1u);

  EXPECT_THROW(TinyTree::Open(12345, source), Error);
  TinyTree built = TinyTree::FromSorted({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
  source->Store(built);
  // Remove a leaf from the store: reaching it must throw a storage error, not crash.
  uint64_t leaf_address = 0;
  built.VisitNodes([&](const TinyTree::Node& n) {
    if (n.is_leaf() && leaf_address == 0) leaf_address = n.address();
  });
  source->Drop(leaf_address);
  TinyTree opened = TinyTree::Open(built.root_address(), source);
  try {
    opened.ForEach([](int) {});
    FAIL() << "expected a storage error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kStorage);
  }
}

TEST(PersistentTreeTest, LazyLoadingConcurrentReaders) {
  std::set<int> m;
  for (int i = 0; i < 20000; ++i) m.insert(i * 2);
  MidTree built = MidTree::FromSorted(std::vector<int>(m.begin(), m.end()));
  auto source = std::make_shared<MapSource<MidTree>>();
  source->Store(built);
  const size_t nodes = CountNodes(built);
  for (int round = 0; round < 5; ++round) {
    MidTree opened = MidTree::Open(built.root_address(), source);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int k = 0; k < 4; ++k) {
      threads.emplace_back([&, k] {
        MidTree local = opened;  // copies share the lazily filled ChildRef slots
        size_t n = 0;
        int expect = 0;
        for (auto it = local.Begin(); it.Valid(); it.Next(), expect += 2, ++n) {
          if (*it != expect) failures.fetch_add(1);
        }
        if (n != m.size()) failures.fetch_add(1);
        for (int i = 0; i < 5000; ++i) {
          int x = (i * 7919 + k * 31) % 40000;
          if ((local.Find(x) != nullptr) != (x % 2 == 0)) failures.fetch_add(1);
        }
      });
    }
    for (auto& th : threads) th.join();
    EXPECT_EQ(failures.load(), 0);
    EXPECT_EQ(opened.CheckInvariants(), "");
  }
  // Racing first loads may load a node twice, but never more than once per reader.
  EXPECT_LE(source->loads(), 5 * 4 * nodes);
}

TEST(PersistentTreeTest, VisitNodesAndAddresses) {
  std::vector<int> v(1000);
  for (int i = 0; i < 1000; ++i) v[i] = i;
  TinyTree t = TinyTree::FromSorted(v);
  size_t leaves = 0, elements = 0, branches = 0;
  t.VisitNodes([&](const TinyTree::Node& n) {
    EXPECT_EQ(n.address(), 0u);
    if (n.is_leaf()) {
      ++leaves;
      elements += n.keys().size();
    } else {
      ++branches;
      EXPECT_EQ(n.num_children(), n.keys().size());
    }
  });
  EXPECT_EQ(elements, 1000u);
  EXPECT_EQ(leaves, 250u);  // FromSorted fills leaves completely
  uint64_t next = 1;
  std::vector<uint64_t> order;
  t.AssignAddresses([&](const TinyTree::Node& n) {
    for (size_t i = 0; i < n.num_children(); ++i) EXPECT_NE(n.child_address(i), 0u);
    order.push_back(next);
    return next++;
  });
  EXPECT_EQ(order.size(), leaves + branches);
  EXPECT_EQ(t.root_address(), next - 1);  // the root is assigned last
  // An update creates exactly one new node per level; only those get addresses.
  TinyTree u = t.Insert(1000);
  size_t assigned = 0;
  u.AssignAddresses([&](const TinyTree::Node&) {
    ++assigned;
    return next++;
  });
  size_t depth = 0;
  u.VisitNodes([&](const TinyTree::Node& n) {
    if (n.address() < next - assigned) return false;
    ++depth;
    return true;
  });
  EXPECT_EQ(assigned, depth);
  EXPECT_GE(assigned, 5u);
  EXPECT_EQ(t.root_address(), next - assigned - 1);
}

// ---- Datoms -------------------------------------------------------------------------------------

struct DatomTestData {
  uint32_t attrs[4];
  DatomTestData() {
    attrs[0] = InternKeyword("person/name")->id;
    attrs[1] = InternKeyword("person/age")->id;
    attrs[2] = InternKeyword("address/city")->id;
    attrs[3] = InternKeyword("zeta")->id;
  }
};

Datom MakeDatom(int64_t e, uint32_t a, int64_t v, int64_t tx) {
  Datom d;
  d.e = e;
  d.a = a;
  d.v = Value::Long(v);
  d.tx = tx;
  return d;
}

TEST(DatomTreeTest, ModelRandomOps) {
  DatomTestData data;
  auto gen = [&](std::mt19937_64& rng) {
    return MakeDatom(static_cast<int64_t>(rng() % 500), data.attrs[rng() % 4],
                     static_cast<int64_t>(rng() % 4), kTx0 + static_cast<int64_t>(rng() % 3));
  };
  RunModel<DatomTree, std::set<Datom, EavtLess>>(gen, 100000, 2000, 17, 5000);
  using SmallAevtTree = PersistentTree<Datom, AevtLess, 8, 6>;
  RunModel<SmallAevtTree, std::set<Datom, AevtLess>>(gen, 20000, 1000, 18, 0);
}

TEST(DatomTreeTest, EntityPrefixSeek) {
  DatomTestData data;
  std::set<Datom, EavtLess> m;
  for (int64_t e = 1; e <= 3000; e += 2) {
    for (uint32_t a : data.attrs) m.insert(MakeDatom(e, a, e * 10, kTx0 + 1));
  }
  DatomTree t = DatomTree::FromSorted(std::vector<Datom>(m.begin(), m.end()));
  for (int64_t e : {0, 1, 2, 1499, 1500, 2999, 3000, 3001}) {
    auto probe = [e](const Datom& d) { return CompareLong(d.e, e); };
    auto it = t.Seek(probe);
    auto rit = t.SeekLastAtOrBefore(probe);
    int n = 0;
    for (; it.Valid() && it->e == e; it.Next()) ++n;
    EXPECT_EQ(n, e % 2 == 1 && e < 3000 ? 4 : 0) << e;
    if (e == 0) {
      EXPECT_FALSE(rit.Valid());
    } else {
      ASSERT_TRUE(rit.Valid());
      EXPECT_EQ(rit->e, e % 2 == 1 ? std::min<int64_t>(e, 2999) : std::min<int64_t>(e - 1, 2999));
    }
    // Full lower bound on (e, a) through the comparator.
    Datom lo;
    lo.e = e;
    lo.a = data.attrs[1];
    auto lb = t.LowerBound(lo);
    auto mlb = m.lower_bound(lo);
    ASSERT_EQ(lb.Valid(), mlb != m.end());
    if (lb.Valid()) {
      EXPECT_EQ(EavtLess::Cmp(*lb, *mlb), 0);
    }
  }
}

double Seconds(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

TEST(DatomTreeTest, MillionDatomTimings) {
#ifdef NDEBUG
  const int64_t n = 1000000;
#else
  const int64_t n = 200000;
#endif
  DatomTestData data;
  std::vector<Datom> sorted;
  sorted.reserve(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    sorted.push_back(MakeDatom(1 + i / 4, data.attrs[0], i, kTx0 + 1));
  }
  std::sort(sorted.begin(), sorted.end(), EavtLess());

  auto start = std::chrono::steady_clock::now();
  auto tr = DatomTree().AsTransient();
  for (const Datom& d : sorted) tr.Insert(d);
  DatomTree t1 = tr.Persistent();
  const double transient_sorted = Seconds(start);

  std::vector<Datom> shuffled = sorted;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937_64(1));
  start = std::chrono::steady_clock::now();
  auto tr2 = DatomTree().AsTransient();
  for (const Datom& d : shuffled) tr2.Insert(d);
  DatomTree t2 = tr2.Persistent();
  const double transient_random = Seconds(start);

  std::vector<Datom> copy = sorted;
  start = std::chrono::steady_clock::now();
  DatomTree t3 = DatomTree::FromSorted(std::move(copy));
  const double from_sorted = Seconds(start);

  start = std::chrono::steady_clock::now();
  DatomTree p;
  const int64_t persistent_n = n / 10;
  for (int64_t i = 0; i < persistent_n; ++i) p = p.Insert(sorted[static_cast<size_t>(i)]);
  const double persistent_sorted = Seconds(start);

  start = std::chrono::steady_clock::now();
  int64_t sum = 0;
  for (auto it = t3.Begin(); it.Valid(); it.Next()) sum += it->e;
  const double scan = Seconds(start);

  start = std::chrono::steady_clock::now();
  size_t found = 0;
  for (int64_t i = 0; i < n; i += 7) found += t3.Contains(sorted[static_cast<size_t>(i)]) ? 1 : 0;
  const double lookups = Seconds(start);

  EXPECT_EQ(t1.size(), static_cast<size_t>(n));
  EXPECT_EQ(t2.size(), static_cast<size_t>(n));
  EXPECT_EQ(t3.size(), static_cast<size_t>(n));
  EXPECT_EQ(p.size(), static_cast<size_t>(persistent_n));
  EXPECT_EQ(t1.CheckInvariants(), "");
  EXPECT_EQ(t2.CheckInvariants(), "");
  EXPECT_EQ(t3.CheckInvariants(), "");
  EXPECT_EQ(found, static_cast<size_t>((n + 6) / 7));
  EXPECT_GT(sum, 0);
  std::printf(
      "[ timing ] %lld datoms: transient sorted insert %.3f s, transient random insert %.3f s, "
      "FromSorted %.3f s, scan %.3f s, %lld lookups %.3f s; %lld persistent inserts %.3f s\n",
      static_cast<long long>(n), transient_sorted, transient_random, from_sorted, scan,
      static_cast<long long>((n + 6) / 7), lookups, static_cast<long long>(persistent_n),
      persistent_sorted);
}

// ---- Lazy indices -------------------------------------------------------------------------------

// The prefix a transaction's lookups use in each order, as a probe, a model range and a filter key.
template <class Less>
struct Prefix;
template <>
struct Prefix<EavtLess> {  // one entity
  int64_t e;
  uint32_t a;
  Value v;
  int operator()(const Datom& d) const { return CompareLong(d.e, e); }
  bool Has(const Datom& d) const { return d.e == e; }
  std::optional<uint64_t> key() const { return static_cast<uint64_t>(e); }
};
template <>
struct Prefix<AevtLess> {  // one attribute of one entity
  int64_t e;
  uint32_t a;
  Value v;
  int operator()(const Datom& d) const {
    if (int c = CompareAttr(d.a, a)) return c;
    return CompareLong(d.e, e);
  }
  bool Has(const Datom& d) const { return d.a == a && d.e == e; }
  std::optional<uint64_t> key() const { return std::nullopt; }
};
template <>
struct Prefix<AvetLess> {  // one attribute with one value
  int64_t e;
  uint32_t a;
  Value v;
  int operator()(const Datom& d) const {
    if (int c = CompareAttr(d.a, a)) return c;
    return Compare(d.v, v);
  }
  bool Has(const Datom& d) const { return d.a == a && Compare(d.v, v) == 0; }
  std::optional<uint64_t> key() const { return std::nullopt; }
};

// Drives LazyIndex and StagedIndex through random transactions and checks every read against a
// std::set: lookups inside transactions, the folded trees, and old versions read long after later
// versions were built on them (and folded).
template <class Less>
class LazyIndexModel {
 public:
  using Model = std::set<Datom, Less>;
  using Tree = datahike::DatomTree<Less>;

  explicit LazyIndexModel(uint64_t seed) : rng_(seed) {
    versions_.emplace_back();
    saved_.emplace_back(0, Model());
  }

  // One transaction of n random changes, with lookups checked along the way. Sometimes it starts
  // over once (as a transaction retrying an upsert does).
  void Transact(size_t n) {
    StagedIndex<Less> st;
    st.Reset(&versions_.back());
    if (rng_() % 16 == 0) {
      for (size_t i = 0; i < 3; ++i) st.Insert(NewDatom());
      st.Reset(&versions_.back());
    }
    Model before = model_;
    for (size_t i = 0; i < n; ++i) {
      if (rng_() % 3 == 0 && !model_.empty()) {
        Datom d = Existing();
        st.Erase(d);
        model_.erase(d);
      } else {
        Datom d = rng_() % 4 == 0 && !model_.empty() ? Existing() : NewDatom();
        st.Insert(d);
        model_.erase(d);
        model_.insert(d);
      }
      if (rng_() % (n > 1000 ? 300 : 3) == 0) CheckLookup(st);
    }
    versions_.push_back(st.Finish());
    if (versions_.size() % 97 == 0) saved_.emplace_back(versions_.size() - 1, model_);
    // The version built on stays as it was.
    if (rng_() % 50 == 0) ExpectSame(versions_[versions_.size() - 2], before);
  }

  // Folds a few random saved versions (old ones included) and compares them with their models.
  void CheckSaved(size_t count) {
    for (size_t i = 0; i < count; ++i) {
      const auto& [index, model] = saved_[rng_() % saved_.size()];
      ExpectSame(versions_[index], model);
    }
  }
  void CheckAll() {
    for (const auto& [index, model] : saved_) ExpectSame(versions_[index], model);
    ExpectSame(versions_.back(), model_);
  }

  const std::deque<LazyIndex<Less>>& versions() const { return versions_; }
  const std::vector<std::pair<size_t, Model>>& saved() const { return saved_; }
  size_t model_checks() const { return model_checks_; }

  static void ExpectSame(const LazyIndex<Less>& index, const Model& m) {
    const Tree& t = index.tree();
    ASSERT_EQ(t.CheckInvariants(), "");
    ASSERT_EQ(t.size(), m.size());
    auto it = m.begin();
    bool same = true;
    t.ForEach([&](const Datom& d) {
      same = same && Less::Cmp(d, *it) == 0;
      ++it;
    });
    EXPECT_TRUE(same);
  }

 private:
  Datom NewDatom() {
    static const uint32_t attrs[3] = {InternKeyword("lazy/a")->id, InternKeyword("lazy/b")->id,
                                      InternKeyword("lazy/c")->id};
    Datom d;
    d.e = 1 + static_cast<int64_t>(rng_() % 2000);
    d.a = attrs[rng_() % 3];
    d.v = Value::Long(static_cast<int64_t>(rng_() % 4));
    d.tx = kTx0 + 1 + static_cast<int64_t>(rng_() % 3);
    return d;
  }
  // A datom of the model (roughly uniformly chosen).
  Datom Existing() {
    auto it = model_.lower_bound(NewDatom());
    return it == model_.end() ? *model_.begin() : *it;
  }

  // The datoms with one prefix, through Seek and First, against the model.
  void CheckLookup(const StagedIndex<Less>& st) {
    Datom at = rng_() % 2 == 0 && !model_.empty() ? Existing() : NewDatom();
    Prefix<Less> p{at.e, at.a, at.v};
    std::vector<Datom> got, want;
    for (auto c = st.Seek(p, p.key()); c.Valid() && p(*c) == 0; c.Next()) got.push_back(*c);
    for (const Datom& d : model_) {
      if (p.Has(d)) want.push_back(d);
    }
    ++model_checks_;
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) ASSERT_EQ(Less::Cmp(got[i], want[i]), 0);
    const Datom* first = st.First(p, p.key());
    if (want.empty()) {
      EXPECT_TRUE(first == nullptr || p(*first) != 0);
    } else {
      ASSERT_NE(first, nullptr);
      EXPECT_EQ(Less::Cmp(*first, want[0]), 0);
    }
  }

  std::mt19937_64 rng_;
  Model model_;
  std::deque<LazyIndex<Less>> versions_;
  std::vector<std::pair<size_t, Model>> saved_;  // (version, its contents)
  size_t model_checks_ = 0;
};

// Mostly one-change transactions (pending runs merge and fold), some medium ones (a transient tree
// of changes), two large ones (written straight into the folded tree).
template <class Less>
void RunLazyIndexModel(uint64_t seed) {
  LazyIndexModel<Less> m(seed);
  std::mt19937_64 rng(seed);
  for (int t = 0; t < 6000; ++t) {
    size_t n = 1 + rng() % 3;
    if (t % 500 == 250) n = 100 + rng() % 200;
    if (t == 3000 || t == 5000) n = 6000;
    m.Transact(n);
    if (::testing::Test::HasFatalFailure()) return;
    if (t % 400 == 0) m.CheckSaved(3);
  }
  m.CheckAll();
  EXPECT_GT(m.model_checks(), 4000u);
}

TEST(LazyIndexTest, EavtModel) { RunLazyIndexModel<EavtLess>(1); }
TEST(LazyIndexTest, AevtModel) { RunLazyIndexModel<AevtLess>(2); }
TEST(LazyIndexTest, AvetModel) { RunLazyIndexModel<AvetLess>(3); }

TEST(LazyIndexTest, UnchangedIndexIsShared) {
  LazyIndex<EavtLess> before;
  StagedIndex<EavtLess> st;
  st.Reset(&before);
  EXPECT_EQ(st.First([](const Datom&) { return 0; }), nullptr);
  LazyIndex<EavtLess> after = st.Finish();
  EXPECT_EQ(&after.tree(), &before.tree()) << "no changes: the same index value";
}

TEST(LazyIndexTest, ChangesCancelledInOneTransaction) {
  LazyIndexModel<EavtLess> m(7);
  for (int t = 0; t < 200; ++t) m.Transact(2);
  const LazyIndex<EavtLess>& base = m.versions().back();
  Datom d;
  d.e = 5000;
  d.a = InternKeyword("lazy/a")->id;
  d.v = Value::Long(1);
  d.tx = kTx0 + 9;
  StagedIndex<EavtLess> st;
  st.Reset(&base);
  st.Insert(d);
  st.Erase(d);
  EXPECT_EQ(st.First([](const Datom& x) { return CompareLong(x.e, 5000); }, 5000), nullptr);
  LazyIndex<EavtLess> after = st.Finish();
  EXPECT_EQ(after.size(), base.size());
  EXPECT_FALSE(after.tree().Contains(d));
}

// Many threads fold the same pending versions (and build on them) at once: each version folds
// once, every reader sees the same tree, and the contents are right.
TEST(LazyIndexTest, ConcurrentFoldsAndBuilds) {
  LazyIndexModel<EavtLess> m(11);
  for (int t = 0; t < 3000; ++t) m.Transact(1 + t % 2);
  const auto& versions = m.versions();
  std::vector<std::atomic<const EavtTree*>> seen(versions.size());
  for (auto& s : seen) s.store(nullptr);
  std::atomic<bool> mismatch{false};
  std::vector<std::thread> threads;
  for (int r = 0; r < 4; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937_64 rng(static_cast<uint64_t>(r));
      for (size_t k = 0; k < 600; ++k) {
        size_t i = r % 2 == 0 ? versions.size() - 1 - k * 5 % versions.size()
                              : static_cast<size_t>(rng() % versions.size());
        if (r == 3) {
          // A writer: builds on the version while others may be folding it.
          StagedIndex<EavtLess> st;
          st.Reset(&versions[i]);
          Datom d;
          d.e = 9000 + static_cast<int64_t>(k);
          d.a = InternKeyword("lazy/a")->id;
          d.v = Value::Long(0);
          d.tx = kTx0 + 1;
          st.Insert(d);
          LazyIndex<EavtLess> next = st.Finish();
          if (next.size() != versions[i].size() + 1 || !next.tree().Contains(d)) mismatch = true;
          continue;
        }
        const EavtTree* t = &versions[i].tree();
        const EavtTree* expected = nullptr;
        if (!seen[i].compare_exchange_strong(expected, t) && expected != t) mismatch = true;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_FALSE(mismatch.load());
  m.CheckAll();
}

}  // namespace
}  // namespace datahike::index
