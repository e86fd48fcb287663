// Entity: an entity's current attributes as one map (a touched entity).
#pragma once

#include "core/db/db.h"
#include "core/value/value.h"

namespace datahike {

// {:db/id e, :attr value, :many-attr #{...}, :ref-attr {:db/id x}} for the entity `eid` (a number,
// lookup ref or ident), as the db's view shows it; nil when eid is nil, resolves to nothing, or the
// entity has no datoms. Malformed references throw datahike::Error.
Value EntityMap(const Db& db, const Value& eid);

}  // namespace datahike
