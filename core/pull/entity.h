// Entity: Datahike's entity API as data. An entity is a map of its attributes (a touched entity) or
// a lookup of one attribute, reverse attributes included; an entity reached through a ref is the
// map {:db/id x}, which a caller can look up in turn.
//
// Values are as the db's view shows them (a history view includes retracted values, as in
// Datahike). Thread-safety: stateless; any thread may call with any Db.
#pragma once

#include <cstdint>

#include "core/db/db.h"
#include "core/value/value.h"

namespace datahike {

// The entity id Datahike's `entity` resolves `eid` to: a positive number as is, a lookup ref
// [attr value] or an ident keyword. 0 when eid is of another type (nil, a string, ...), is not
// positive, or names no entity. A malformed lookup ref throws datahike::Error.
int64_t EntityId(const Db& db, const Value& eid);

// The touched entity: {:db/id e, :attr value, :many-attr #{...}, :ref-attr {:db/id x}} for the
// entity `eid` (resolved as EntityId does). Components are touched too, recursively, so a component
// ref shows the component's own map (an entity already being touched on the way down shows as
// {:db/id x}, where Datahike would recurse forever). Nil when eid resolves to nothing or the entity
// has no datoms. Malformed references throw datahike::Error.
Value EntityMap(const Db& db, const Value& eid);

// Datahike's entity lookup `(get (entity db eid) attr)`:
//   :db/id             eid
//   :attr              its value; a set of values when cardinality-many; a ref as {:db/id x}
//                      (components too: a lookup does not touch)
//   :_attr (reverse)   the entities whose :attr refers to eid: a set of {:db/id x}, or a single
//                      {:db/id x} when :attr is a component
// Nil when the entity has no such attribute. A string attribute names nothing (nil); any other
// non-keyword throws datahike::Error(kQuery).
Value EntityGet(const Db& db, int64_t eid, const Value& attr);

}  // namespace datahike
