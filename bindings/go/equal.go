package datahike

import (
	"bytes"
	"math"
	"math/big"
	"time"
)

// Equal reports whether two values read from EDN are equal as EDN values: integers by value whatever
// their Go type (int64 or *big.Int), floats by value (NaN equal to NaN), lists and vectors
// elementwise, sets and maps regardless of order, instants as instants. A Decimal equals only a
// Decimal with the same text, and an integer never equals a float.
func Equal(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool, string, Keyword, Symbol, Decimal, UUID, Char, EDN:
		return a == b
	case int64:
		if y, ok := b.(int64); ok {
			return x == y
		}
		ia, ok1 := toBig(x)
		ib, ok2 := toBig(b)
		return ok1 && ok2 && ia.Cmp(ib) == 0
	case *big.Int:
		ia, ok1 := toBig(x)
		ib, ok2 := toBig(b)
		return ok1 && ok2 && ia.Cmp(ib) == 0
	case float64:
		y, ok := b.(float64)
		return ok && (x == y || (math.IsNaN(x) && math.IsNaN(y)))
	case time.Time:
		y, ok := b.(time.Time)
		return ok && x.Equal(y)
	case []byte:
		y, ok := b.([]byte)
		return ok && bytes.Equal(x, y)
	case []any, List:
		xs := sequential(a)
		ys := sequential(b)
		if xs == nil || ys == nil || len(xs) != len(ys) {
			return false
		}
		for i := range xs {
			if !Equal(xs[i], ys[i]) {
				return false
			}
		}
		return true
	case Set:
		y, ok := b.(Set)
		if !ok || len(x) != len(y) {
			return false
		}
		for _, e := range x {
			found := false
			for _, f := range y {
				if Equal(e, f) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	case map[any]any:
		y, ok := b.(map[any]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !Equal(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

// sequential returns the items of a vector or list, nil for anything else.
func sequential(v any) []any {
	switch x := v.(type) {
	case []any:
		if x == nil {
			return []any{}
		}
		return x
	case List:
		if x == nil {
			return []any{}
		}
		return x
	}
	return nil
}

func toBig(v any) (*big.Int, bool) {
	switch x := v.(type) {
	case int64:
		return big.NewInt(x), true
	case *big.Int:
		return x, x != nil
	}
	return nil, false
}
