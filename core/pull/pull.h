// Pull: the Datomic/Datahike pull API. A pattern (a vector or set of attribute specs) is parsed
// once into a PullSpec and applied to entities of a Db value.
//
// Pattern syntax: attribute keywords (:name, reverse :_parent), the wildcard * (or :* or "*"),
// :db/id, maps {attr-spec sub-pattern} for refs (a number for a depth-limited recursion, `...` for
// unbounded recursion), attribute expressions [:attr :limit n :default v :as k] and the legacy list
// forms (limit :attr n) / (default :attr v). Components are pulled whole under the wildcard and
// when named without a sub-pattern.
//
// Results follow Datahike's pull (datahike.pull-api) exactly: cardinality-many values and reverse
// references come back as vectors in index order (at most 1000 unless :limit says otherwise), a
// reverse component reference as a single map, refs as {:db/id x}; an attribute the entity lacks is
// left out unless it has a :default; recursion stops at its depth limit and at an entity already
// visited on the recursion path, which comes back as {:db/id x}. core/pull/README.md lists the
// finer points (all of them Datahike's).
//
// Thread-safety: a PullSpec is immutable and may be shared; the functions hold no state.
#pragma once

#include <cstdint>
#include <memory>

#include "core/db/db.h"
#include "core/value/value.h"

namespace datahike {

struct PullSpec;  // a parsed pattern; immutable, shareable across threads

// Parses a pull pattern. Throws datahike::Error(kQuery) naming the offending element.
std::shared_ptr<const PullSpec> ParsePullPattern(const Value& pattern);

// Applies a parsed pattern to the entity `eid` in the db's view. Returns nil when nothing of the
// pattern is found for it (as Datahike does). Throws datahike::Error(kQuery) when a sub-pattern is
// applied to a value that is not an entity id (a non-ref attribute).
Value PullEntity(const Db& db, const PullSpec& spec, int64_t eid);

// `eid` resolved as Datahike's pull resolves it (entid-strict): a positive number as is, a lookup
// ref [attr value] or an ident. A lookup ref or ident that names no entity throws
// datahike::Error(kNotFound) "Nothing found for entity id ..."; a malformed one throws too. This is
// the call for `(pull ?e pattern)` in a query's :find, once per row, with the spec parsed once.
Value Pull(const Db& db, const PullSpec& spec, const Value& eid);

// The public calls. `eids` is a collection of entity references; every one is resolved first (as
// Pull resolves `eid`), then pulled in order. As in Datahike, pull-many leaves out the entities for
// which nothing is found, so the result may be shorter than `eids`.
Value Pull(const Db& db, const Value& pattern, const Value& eid);
Value PullMany(const Db& db, const Value& pattern, const Value& eids);

}  // namespace datahike
