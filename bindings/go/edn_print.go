package datahike

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"
)

// PrintEDN writes a Go value as EDN text, the inverse of ReadEDN. Besides the types ReadEDN returns
// it takes every Go integer and float type, big.Int and *big.Float (as a bigdec), any map (keys
// printed as values: a Go string key is an EDN string, use Keyword keys for keyword maps), any slice
// or array ([]byte prints as #bytes), and EDN text, which is written as it is. A value of any other
// type (a struct, a channel, a *DB) is an *Error of kind :misuse.
func PrintEDN(v any) (string, error) {
	p := printer{buf: make([]byte, 0, 64)}
	if err := p.value(v, 0); err != nil {
		return "", err
	}
	return string(p.buf), nil
}

type printer struct {
	buf []byte
}

func (p *printer) value(v any, depth int) error {
	if depth > maxDepth {
		return &Error{Kind: KindMisuse, Message: fmt.Sprintf("value nested deeper than %d levels", maxDepth)}
	}
	switch x := v.(type) {
	case nil:
		p.buf = append(p.buf, "nil"...)
	case bool:
		p.buf = strconv.AppendBool(p.buf, x)
	case int:
		p.buf = strconv.AppendInt(p.buf, int64(x), 10)
	case int64:
		p.buf = strconv.AppendInt(p.buf, x, 10)
	case int32:
		p.buf = strconv.AppendInt(p.buf, int64(x), 10)
	case int16:
		p.buf = strconv.AppendInt(p.buf, int64(x), 10)
	case int8:
		p.buf = strconv.AppendInt(p.buf, int64(x), 10)
	case uint:
		p.uint(uint64(x))
	case uint64:
		p.uint(x)
	case uint32:
		p.buf = strconv.AppendUint(p.buf, uint64(x), 10)
	case uint16:
		p.buf = strconv.AppendUint(p.buf, uint64(x), 10)
	case uint8:
		p.buf = strconv.AppendUint(p.buf, uint64(x), 10)
	case float64:
		p.float(x, 64)
	case float32:
		p.float(float64(x), 32)
	case *big.Int:
		if x == nil {
			p.buf = append(p.buf, "nil"...)
			break
		}
		p.buf = x.Append(p.buf, 10)
		p.buf = append(p.buf, 'N')
	case big.Int:
		p.buf = x.Append(p.buf, 10)
		p.buf = append(p.buf, 'N')
	case *big.Float:
		if x == nil {
			p.buf = append(p.buf, "nil"...)
			break
		}
		if x.IsInf() {
			return &Error{Kind: KindMisuse, Message: "an infinite *big.Float has no bigdec form"}
		}
		p.buf = x.Append(p.buf, 'f', -1)
		p.buf = append(p.buf, 'M')
	case *big.Rat:
		return &Error{Kind: KindMisuse, Message: "a *big.Rat has no EDN form; use Decimal"}
	case Decimal:
		p.buf = append(p.buf, x...)
		p.buf = append(p.buf, 'M')
	case string:
		p.str(x)
	case Keyword:
		p.buf = append(p.buf, ':')
		p.buf = append(p.buf, x...)
	case Symbol:
		p.buf = append(p.buf, x...)
	case EDN:
		p.buf = append(p.buf, x...)
	case Char:
		p.char(rune(x))
	case UUID:
		p.buf = append(p.buf, `#uuid "`...)
		p.buf = append(p.buf, x.String()...)
		p.buf = append(p.buf, '"')
	case *UUID:
		if x == nil {
			p.buf = append(p.buf, "nil"...)
			break
		}
		return p.value(*x, depth)
	case time.Time:
		p.buf = append(p.buf, `#inst "`...)
		p.buf = x.UTC().AppendFormat(p.buf, "2006-01-02T15:04:05.000")
		p.buf = append(p.buf, `-00:00"`...)
	case *time.Time:
		if x == nil {
			p.buf = append(p.buf, "nil"...)
			break
		}
		return p.value(*x, depth)
	case []byte:
		p.buf = append(p.buf, `#bytes "`...)
		p.buf = base64.StdEncoding.AppendEncode(p.buf, x)
		p.buf = append(p.buf, '"')
	case []any:
		return p.items('[', ']', x, depth)
	case List:
		return p.items('(', ')', x, depth)
	case Set:
		return p.items('#', '}', x, depth)
	case Datom:
		return p.items('[', ']', []any{x.E, x.A, x.V, x.Tx, x.Added}, depth)
	case map[any]any:
		p.buf = append(p.buf, '{')
		first := true
		for _, k := range sortedKeys(x) {
			if !first {
				p.buf = append(p.buf, ", "...)
			}
			first = false
			if err := p.value(k, depth+1); err != nil {
				return err
			}
			p.buf = append(p.buf, ' ')
			if err := p.value(x[k], depth+1); err != nil {
				return err
			}
		}
		p.buf = append(p.buf, '}')
	case OrderedMap:
		p.buf = append(p.buf, '{')
		for i, e := range x {
			if i > 0 {
				p.buf = append(p.buf, ", "...)
			}
			if err := p.value(e.Key, depth+1); err != nil {
				return err
			}
			p.buf = append(p.buf, ' ')
			if err := p.value(e.Value, depth+1); err != nil {
				return err
			}
		}
		p.buf = append(p.buf, '}')
	case map[Keyword]any:
		p.buf = append(p.buf, '{')
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, string(k))
		}
		sort.Strings(keys)
		for i, k := range keys {
			if i > 0 {
				p.buf = append(p.buf, ", "...)
			}
			p.buf = append(p.buf, ':')
			p.buf = append(p.buf, k...)
			p.buf = append(p.buf, ' ')
			if err := p.value(x[Keyword(k)], depth+1); err != nil {
				return err
			}
		}
		p.buf = append(p.buf, '}')
	default:
		return p.reflected(v, depth)
	}
	return nil
}

// sortedKeys orders a map's keys by their printed text, so equal maps print the same way.
func sortedKeys(m map[any]any) []any {
	keys := make([]any, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	if len(keys) < 2 {
		return keys
	}
	texts := make([]string, len(keys))
	for i, k := range keys {
		switch x := k.(type) {
		case Keyword:
			texts[i] = ":" + string(x)
		case string:
			texts[i] = x
		default:
			texts[i] = fmt.Sprint(k)
		}
	}
	sort.Sort(byText{keys, texts})
	return keys
}

type byText struct {
	keys  []any
	texts []string
}

func (b byText) Len() int           { return len(b.keys) }
func (b byText) Less(i, j int) bool { return b.texts[i] < b.texts[j] }
func (b byText) Swap(i, j int) {
	b.keys[i], b.keys[j] = b.keys[j], b.keys[i]
	b.texts[i], b.texts[j] = b.texts[j], b.texts[i]
}

// reflected prints the slices, arrays, maps and named scalar types the switch does not list.
func (p *printer) reflected(v any, depth int) error {
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			p.buf = append(p.buf, "[]"...)
			return nil
		}
		p.buf = append(p.buf, '[')
		for i := 0; i < rv.Len(); i++ {
			if i > 0 {
				p.buf = append(p.buf, ' ')
			}
			if err := p.value(rv.Index(i).Interface(), depth+1); err != nil {
				return err
			}
		}
		p.buf = append(p.buf, ']')
		return nil
	case reflect.Map:
		p.buf = append(p.buf, '{')
		for i, k := range rv.MapKeys() {
			if i > 0 {
				p.buf = append(p.buf, ", "...)
			}
			if err := p.value(k.Interface(), depth+1); err != nil {
				return err
			}
			p.buf = append(p.buf, ' ')
			if err := p.value(rv.MapIndex(k).Interface(), depth+1); err != nil {
				return err
			}
		}
		p.buf = append(p.buf, '}')
		return nil
	case reflect.Pointer:
		if rv.IsNil() {
			p.buf = append(p.buf, "nil"...)
			return nil
		}
	case reflect.String:
		p.str(rv.String())
		return nil
	case reflect.Bool:
		p.buf = strconv.AppendBool(p.buf, rv.Bool())
		return nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		p.buf = strconv.AppendInt(p.buf, rv.Int(), 10)
		return nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		p.uint(rv.Uint())
		return nil
	case reflect.Float32:
		p.float(rv.Float(), 32)
		return nil
	case reflect.Float64:
		p.float(rv.Float(), 64)
		return nil
	}
	return &Error{Kind: KindMisuse, Message: fmt.Sprintf("a Go value of type %T has no EDN form", v)}
}

func (p *printer) uint(x uint64) {
	p.buf = strconv.AppendUint(p.buf, x, 10)
	if x > math.MaxInt64 {
		p.buf = append(p.buf, 'N')
	}
}

// float prints the shortest text that reads back as the same number, always with a '.' or an
// exponent so that the library reads a double.
func (p *printer) float(f float64, bits int) {
	switch {
	case math.IsNaN(f):
		p.buf = append(p.buf, "##NaN"...)
		return
	case math.IsInf(f, 1):
		p.buf = append(p.buf, "##Inf"...)
		return
	case math.IsInf(f, -1):
		p.buf = append(p.buf, "##-Inf"...)
		return
	}
	start := len(p.buf)
	p.buf = strconv.AppendFloat(p.buf, f, 'g', -1, bits)
	for _, c := range p.buf[start:] {
		if c == '.' || c == 'e' {
			return
		}
	}
	p.buf = append(p.buf, ".0"...)
}

func (p *printer) items(open, end byte, items []any, depth int) error {
	p.buf = append(p.buf, open)
	if open == '#' {
		p.buf = append(p.buf, '{')
	}
	for i, x := range items {
		if i > 0 {
			p.buf = append(p.buf, ' ')
		}
		if err := p.value(x, depth+1); err != nil {
			return err
		}
	}
	p.buf = append(p.buf, end)
	return nil
}

func (p *printer) str(s string) {
	const hexDigits = "0123456789abcdef"
	p.buf = append(p.buf, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			p.buf = append(p.buf, `\"`...)
		case '\\':
			p.buf = append(p.buf, `\\`...)
		case '\n':
			p.buf = append(p.buf, `\n`...)
		case '\t':
			p.buf = append(p.buf, `\t`...)
		case '\r':
			p.buf = append(p.buf, `\r`...)
		case '\b':
			p.buf = append(p.buf, `\b`...)
		case '\f':
			p.buf = append(p.buf, `\f`...)
		default:
			if c < 0x20 || c == 0x7f {
				p.buf = append(p.buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&15])
			} else {
				p.buf = append(p.buf, c)
			}
		}
	}
	p.buf = append(p.buf, '"')
}

func (p *printer) char(c rune) {
	names := map[rune]string{'\n': "newline", ' ': "space", '\t': "tab", '\r': "return",
		'\b': "backspace", '\f': "formfeed"}
	p.buf = append(p.buf, '\\')
	if n, ok := names[c]; ok {
		p.buf = append(p.buf, n...)
		return
	}
	if c < 0x20 || (c >= 0x7f && c < 0xa0) || (c >= 0xD800 && c <= 0xDFFF) || !utf8.ValidRune(c) {
		p.buf = append(p.buf, fmt.Sprintf("u%04x", c&0xffff)...)
		return
	}
	p.buf = utf8.AppendRune(p.buf, c)
}
