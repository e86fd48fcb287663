package datahike

import (
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
)

// Keyword is an EDN keyword without its leading colon: Keyword("db/id") is :db/id.
// Maps read from the library are keyed by Keyword wherever the EDN map is keyed by keywords.
type Keyword string

// String returns the keyword's EDN text, with the colon.
func (k Keyword) String() string { return ":" + string(k) }

// Symbol is an EDN symbol (?e, $, pull, ...), as written in queries and rules.
type Symbol string

// String returns the symbol's text.
func (s Symbol) String() string { return string(s) }

// EDN is raw EDN text. Wherever a value is taken, an EDN value is written into the text sent to the
// library as it is, unchecked, so EDN(`#inst "2024-01-01"`) or EDN("[:find ?e :where [?e :name]]")
// may stand for any value. Map keys that have no comparable Go form (a vector or map used as a key)
// are read as EDN of their text.
type EDN string

// Decimal is an EDN bigdec (:db.type/bigdec) by its decimal text without the M suffix: Decimal("1.50")
// is 1.50M. It keeps the text exactly as the library prints it. Rat converts it for arithmetic.
type Decimal string

// Rat returns the decimal's exact value, or nil and false when the text is not a decimal number.
func (d Decimal) Rat() (*big.Rat, bool) { return new(big.Rat).SetString(string(d)) }

// String returns the decimal text with the EDN suffix M.
func (d Decimal) String() string { return string(d) + "M" }

// UUID is a :db.type/uuid value, 16 bytes in network order.
type UUID [16]byte

// String returns the canonical lowercase form 8-4-4-4-12.
func (u UUID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// ParseUUID reads the form 8-4-4-4-12 in either hex case.
func ParseUUID(s string) (UUID, error) {
	var u UUID
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, fmt.Errorf("invalid uuid %q", s)
	}
	h := strings.ReplaceAll(s, "-", "")
	if _, err := hex.Decode(u[:], []byte(h)); err != nil {
		return u, fmt.Errorf("invalid uuid %q", s)
	}
	return u, nil
}

// Char is an EDN character (\a, \newline).
type Char rune

// List is an EDN list, (...): the form of clauses such as (or ...), (pull ?e [...]) or (count ?x).
type List []any

// Set is an EDN set, #{...}. It is a slice because its elements (query tuples, for instance) are
// often slices, which Go maps cannot hold. Its order carries no meaning. The library never puts the
// same element twice in a set it returns or reads; ReadEDN keeps a set's elements as written.
type Set []any

// Datom is one row of an index or of a transaction's :tx-data: entity, attribute, value,
// transaction and whether it was added (false for a retraction).
type Datom struct {
	E     int64
	A     Keyword
	V     any
	Tx    int64
	Added bool
}

// MapEntry is one key and value of an OrderedMap.
type MapEntry struct {
	Key, Value any
}

// OrderedMap is an EDN map whose entries print in the order given. A Go map prints its keys sorted
// by their text; when the order of an entity map's attributes matters (Datahike resolves upserts and
// reports conflicts in that order), give an OrderedMap instead. ReadEDNOrdered reads maps as
// OrderedMap.
type OrderedMap []MapEntry

// Get returns the value of the first entry whose key is Equal to key.
func (m OrderedMap) Get(key any) (any, bool) {
	for _, e := range m {
		if Equal(e.Key, key) {
			return e.Value, true
		}
	}
	return nil, false
}

// Set returns the map with key set to value: in place when the key is there, else appended.
func (m OrderedMap) Set(key, value any) OrderedMap {
	for i, e := range m {
		if Equal(e.Key, key) {
			m[i].Value = value
			return m
		}
	}
	return append(m, MapEntry{key, value})
}
