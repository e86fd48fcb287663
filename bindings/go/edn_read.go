package datahike

import (
	"encoding/base64"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ReadEDN reads one EDN value from text into Go values:
//
//	nil, true, false      nil, bool
//	42, 42N, 0xff         int64; *big.Int for N or when it does not fit in 64 bits
//	1.5, ##Inf            float64
//	1.50M                 Decimal
//	"s", \c               string, Char
//	:ns/k, sym            Keyword, Symbol
//	(..) [..] #{..} {..}  List, []any, Set, map[any]any
//	#inst, #uuid, #bytes  time.Time (UTC), UUID, []byte
//
// A map key with no comparable Go form (a vector, list, set, map or bigint) becomes the EDN of its
// text. Errors are *Error of kind :parse/error.
func ReadEDN(text string) (any, error) { return readEDN(text, false) }

// ReadEDNOrdered is ReadEDN with every map read as an OrderedMap, in the order of the text, keys as
// they are (no EDN wrapping): for text whose maps are sent back to the library in their order.
func ReadEDNOrdered(text string) (any, error) { return readEDN(text, true) }

func readEDN(text string, ordered bool) (any, error) {
	r := reader{s: text, ordered: ordered}
	v, ok, err := r.next()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, r.fail("expected a value, found end of input")
	}
	if _, more, err := r.next(); err != nil || more {
		if err != nil {
			return nil, err
		}
		return nil, r.fail("unexpected trailing characters after the value")
	}
	return v, nil
}

const maxDepth = 10000

type reader struct {
	s       string
	pos     int
	depth   int
	ordered bool  // maps as OrderedMap
	stack   []any // elements of the collections being read
	arena   []any // backing store that finished collections are carved from
}

// carve copies items into a slice of exactly their length, cut from a shared arena so that a result
// of many small tuples takes a few allocations, not one per tuple.
func (r *reader) carve(items []any) []any {
	n := len(items)
	if cap(r.arena)-len(r.arena) < n {
		if n > 256 {
			return append([]any(nil), items...)
		}
		// Sized by the text still to read: an element takes at least two bytes of it.
		size := min(max((len(r.s)-r.pos)/2, 16), 1024)
		r.arena = make([]any, 0, max(size, n))
	}
	start := len(r.arena)
	r.arena = append(r.arena, items...)
	return r.arena[start : start+n : start+n]
}

type closer byte // a closing delimiter met where a value was expected

func (r *reader) fail(format string, args ...any) *Error {
	line, col := 1, 1
	for i, c := range r.s {
		if i >= r.pos {
			break
		}
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return &Error{Kind: KindParse, Message: fmt.Sprintf("EDN parse error at line %d, column %d: %s",
		line, col, fmt.Sprintf(format, args...))}
}

func (r *reader) skipSpace() {
	for r.pos < len(r.s) {
		c := r.s[r.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '\f':
			r.pos++
		case c == ';':
			for r.pos < len(r.s) && r.s[r.pos] != '\n' {
				r.pos++
			}
		default:
			return
		}
	}
}

// next reads the next value; ok is false at the end of the input.
func (r *reader) next() (any, bool, error) {
	v, err := r.value()
	if err != nil {
		return nil, false, err
	}
	if c, isCloser := v.(closer); isCloser {
		if c == 0 {
			return nil, false, nil
		}
		r.pos--
		return nil, false, r.fail("unmatched delimiter %q", rune(c))
	}
	return v, true, nil
}

// value reads one form; it returns closer(0) at the end of input and closer(c) for a closing
// delimiter c (consumed).
func (r *reader) value() (any, error) {
	r.skipSpace()
	if r.pos >= len(r.s) {
		return closer(0), nil
	}
	c := r.s[r.pos]
	switch c {
	case ')', ']', '}':
		r.pos++
		return closer(c), nil
	case '(':
		r.pos++
		items, err := r.seq(')')
		return List(items), err
	case '[':
		r.pos++
		items, err := r.seq(']')
		if items == nil && err == nil {
			items = []any{}
		}
		return items, err
	case '{':
		r.pos++
		return r.mapBody()
	case '"':
		return r.str()
	case '\\':
		return r.char()
	case '#':
		return r.dispatch()
	case '\'':
		r.pos++
		v, err := r.required()
		if err != nil {
			return nil, err
		}
		return List{Symbol("quote"), v}, nil
	case ':':
		start := r.pos
		r.pos++
		name := r.token()
		if name == "" || strings.HasPrefix(name, ":") || strings.HasSuffix(name, ":") || strings.HasSuffix(name, "/") || strings.HasPrefix(name, "/") {
			r.pos = start
			return nil, r.fail("invalid keyword %q", ":"+name)
		}
		return Keyword(name), nil
	}
	if c == '^' || c == '`' || c == '~' || c == '@' {
		return nil, r.fail("unsupported reader macro %q", rune(c))
	}
	start := r.pos
	tok := r.token()
	if tok == "" {
		_, size := utf8.DecodeRuneInString(r.s[r.pos:])
		r.pos += size
		return nil, r.fail("unexpected character %q", r.s[start:r.pos])
	}
	if isNumberStart(tok) {
		v, err := parseNumber(tok)
		if err != nil {
			r.pos = start
			return nil, r.fail("%s", err.Error())
		}
		return v, nil
	}
	switch tok {
	case "nil":
		return nil, nil
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return Symbol(tok), nil
}

// required reads a value that must be there (after a tag, a quote, as a map value).
func (r *reader) required() (any, error) {
	v, err := r.value()
	if err != nil {
		return nil, err
	}
	if c, isCloser := v.(closer); isCloser {
		if c == 0 {
			return nil, r.fail("expected a value, found end of input")
		}
		r.pos--
		return nil, r.fail("expected a value, found %q", rune(c))
	}
	return v, nil
}

func (r *reader) enter() error {
	r.depth++
	if r.depth > maxDepth {
		return r.fail("nesting deeper than %d levels", maxDepth)
	}
	return nil
}

// seq reads the elements up to end into a slice of exactly their number; the elements of open
// collections wait on one shared stack.
func (r *reader) seq(end byte) ([]any, error) {
	if err := r.enter(); err != nil {
		return nil, err
	}
	defer func() { r.depth-- }()
	open := r.pos - 1
	if r.stack == nil {
		r.stack = make([]any, 0, 32)
	}
	base := len(r.stack)
	defer func() {
		clear(r.stack[base:])
		r.stack = r.stack[:base]
	}()
	for {
		v, err := r.value()
		if err != nil {
			return nil, err
		}
		if c, isCloser := v.(closer); isCloser {
			if byte(c) == end {
				if len(r.stack) == base {
					return nil, nil
				}
				return r.carve(r.stack[base:]), nil
			}
			if c == 0 {
				r.pos = open
				return nil, r.fail("unterminated collection")
			}
			r.pos--
			return nil, r.fail("mismatched delimiter %q", rune(c))
		}
		r.stack = append(r.stack, v)
	}
}

func (r *reader) mapBody() (any, error) {
	open := r.pos - 1
	items, err := r.seq('}')
	if err != nil {
		return nil, err
	}
	if len(items)%2 != 0 {
		r.pos = open
		return nil, r.fail("a map literal needs an even number of forms")
	}
	if r.ordered {
		m := make(OrderedMap, 0, len(items)/2)
		for i := 0; i < len(items); i += 2 {
			m = m.Set(items[i], items[i+1])
		}
		return m, nil
	}
	m := make(map[any]any, len(items)/2)
	for i := 0; i < len(items); i += 2 {
		m[mapKey(items[i])] = items[i+1]
	}
	return m, nil
}

// mapKey gives a key Go can hash and compare by value: scalars stay as they are, anything else
// (collections, bigints) becomes the EDN of its text.
func mapKey(k any) any {
	switch k.(type) {
	case nil, bool, int64, float64, string, Keyword, Symbol, Decimal, UUID, Char, EDN, time.Time:
		return k
	}
	text, err := PrintEDN(k)
	if err != nil {
		return EDN(fmt.Sprint(k))
	}
	return EDN(text)
}

func (r *reader) dispatch() (any, error) {
	start := r.pos
	r.pos++
	if r.pos >= len(r.s) {
		return nil, r.fail("unexpected end of input after #")
	}
	switch c := r.s[r.pos]; c {
	case '{':
		r.pos++
		items, err := r.seq('}')
		if err != nil {
			return nil, err
		}
		if items == nil {
			items = []any{}
		}
		return Set(items), nil
	case '_':
		r.pos++
		if _, err := r.required(); err != nil {
			return nil, err
		}
		return r.value()
	case '#':
		r.pos++
		switch tok := r.token(); tok {
		case "Inf":
			return math.Inf(1), nil
		case "-Inf":
			return math.Inf(-1), nil
		case "NaN":
			return math.NaN(), nil
		default:
			r.pos = start
			return nil, r.fail("unknown symbolic value ##%s", tok)
		}
	}
	tag := r.token()
	if tag == "" {
		return nil, r.fail("unsupported dispatch #%c", r.s[r.pos])
	}
	if err := r.enter(); err != nil {
		return nil, err
	}
	v, err := r.required()
	r.depth--
	if err != nil {
		return nil, err
	}
	s, isString := v.(string)
	switch tag {
	case "inst":
		if isString {
			if t, ok := parseInstant(s); ok {
				return t, nil
			}
		}
		r.pos = start
		return nil, r.fail("invalid #inst %v", v)
	case "uuid":
		if isString {
			if u, err := ParseUUID(s); err == nil {
				return u, nil
			}
		}
		r.pos = start
		return nil, r.fail("invalid #uuid %v", v)
	case "bytes":
		if isString {
			if b, err := base64.StdEncoding.DecodeString(s); err == nil {
				return b, nil
			}
			if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
				return b, nil
			}
		}
		r.pos = start
		return nil, r.fail("invalid #bytes %v", v)
	}
	r.pos = start
	return nil, r.fail("unknown tag #%s", tag)
}

func isTokenByte(c byte) bool {
	if c >= 0x80 {
		return true
	}
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte(".*+!-_?$%&=<>'#:/", c) >= 0
}

func (r *reader) token() string {
	start := r.pos
	for r.pos < len(r.s) && isTokenByte(r.s[r.pos]) {
		r.pos++
	}
	return r.s[start:r.pos]
}

func isNumberStart(tok string) bool {
	if tok[0] >= '0' && tok[0] <= '9' {
		return true
	}
	return len(tok) > 1 && (tok[0] == '-' || tok[0] == '+') && tok[1] >= '0' && tok[1] <= '9'
}

func parseNumber(tok string) (any, error) {
	if n, err := strconv.ParseInt(tok, 10, 64); err == nil && (len(tok) < 2 || tok[0] != '0') {
		return n, nil // the common case: a decimal long
	}
	body := tok
	neg := false
	if body[0] == '-' || body[0] == '+' {
		neg = body[0] == '-'
		body = body[1:]
	}
	if strings.HasSuffix(body, "M") {
		d := strings.TrimSuffix(tok, "M")
		d = strings.TrimPrefix(d, "+")
		d = strings.TrimSuffix(d, ".")
		if _, ok := new(big.Rat).SetString(d); !ok {
			return nil, fmt.Errorf("invalid number %q", tok)
		}
		return Decimal(d), nil
	}
	if strings.ContainsAny(body, ".eE") && !strings.HasPrefix(body, "0x") && !strings.HasPrefix(body, "0X") && !strings.Contains(body, "r") {
		f, err := strconv.ParseFloat(strings.TrimSuffix(body, "."), 64)
		if err != nil && !isRangeErr(err) {
			return nil, fmt.Errorf("invalid number %q", tok)
		}
		if neg {
			f = -f
		}
		return f, nil
	}
	base := 10
	forceBig := false
	switch {
	case strings.HasPrefix(body, "0x") || strings.HasPrefix(body, "0X"):
		base, body = 16, body[2:]
		if strings.HasSuffix(body, "N") {
			forceBig, body = true, strings.TrimSuffix(body, "N")
		}
	case strings.Contains(body, "r"):
		i := strings.IndexByte(body, 'r')
		b, err := strconv.Atoi(body[:i])
		if err != nil || b < 2 || b > 36 {
			return nil, fmt.Errorf("invalid radix in %q", tok)
		}
		base, body = b, body[i+1:]
	case strings.HasSuffix(body, "N"):
		forceBig, body = true, strings.TrimSuffix(body, "N")
	}
	if body == "" || (base == 10 && len(body) > 1 && body[0] == '0') {
		return nil, fmt.Errorf("invalid number %q", tok)
	}
	n, ok := new(big.Int).SetString(body, base)
	if !ok {
		return nil, fmt.Errorf("invalid number %q", tok)
	}
	if neg {
		n.Neg(n)
	}
	if !forceBig && n.IsInt64() {
		return n.Int64(), nil
	}
	return n, nil
}

func isRangeErr(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

func (r *reader) str() (any, error) {
	start := r.pos
	r.pos++
	// Without escapes the string is a slice of the text.
	if end := strings.IndexAny(r.s[r.pos:], "\"\\"); end >= 0 && r.s[r.pos+end] == '"' {
		s := r.s[r.pos : r.pos+end]
		r.pos += end + 1
		return s, nil
	}
	var b strings.Builder
	for {
		if r.pos >= len(r.s) {
			r.pos = start
			return nil, r.fail("unterminated string")
		}
		c := r.s[r.pos]
		if c == '"' {
			r.pos++
			return b.String(), nil
		}
		if c != '\\' {
			b.WriteByte(c)
			r.pos++
			continue
		}
		r.pos++
		if r.pos >= len(r.s) {
			r.pos = start
			return nil, r.fail("unterminated string")
		}
		e := r.s[r.pos]
		r.pos++
		switch e {
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'n':
			b.WriteByte('\n')
		case '\\':
			b.WriteByte('\\')
		case '"':
			b.WriteByte('"')
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'u':
			cp, err := r.hex4()
			if err != nil {
				return nil, err
			}
			if cp >= 0xD800 && cp <= 0xDBFF && strings.HasPrefix(r.s[r.pos:], "\\u") {
				save := r.pos
				r.pos += 2
				lo, err := r.hex4()
				if err == nil && lo >= 0xDC00 && lo <= 0xDFFF {
					cp = 0x10000 + (cp-0xD800)<<10 + (lo - 0xDC00)
				} else {
					r.pos = save
				}
			}
			if cp >= 0xD800 && cp <= 0xDFFF {
				return nil, r.fail("lone surrogate in string escape")
			}
			b.WriteRune(rune(cp))
		default:
			if e >= '0' && e <= '7' {
				n := int(e - '0')
				for k := 0; k < 2 && r.pos < len(r.s) && r.s[r.pos] >= '0' && r.s[r.pos] <= '7'; k++ {
					n = n*8 + int(r.s[r.pos]-'0')
					r.pos++
				}
				if n > 0377 {
					return nil, r.fail("octal escape out of range")
				}
				b.WriteRune(rune(n))
				continue
			}
			r.pos--
			return nil, r.fail("invalid escape \\%c in string", e)
		}
	}
}

func (r *reader) hex4() (int, error) {
	if r.pos+4 > len(r.s) {
		return 0, r.fail("truncated \\u escape")
	}
	n, err := strconv.ParseUint(r.s[r.pos:r.pos+4], 16, 32)
	if err != nil {
		return 0, r.fail("invalid \\u escape")
	}
	r.pos += 4
	return int(n), nil
}

var charNames = map[string]rune{"newline": '\n', "space": ' ', "tab": '\t', "return": '\r',
	"backspace": '\b', "formfeed": '\f'}

func (r *reader) char() (any, error) {
	start := r.pos
	r.pos++
	if r.pos >= len(r.s) {
		return nil, r.fail("unexpected end of input after \\")
	}
	cp, size := utf8.DecodeRuneInString(r.s[r.pos:])
	r.pos += size
	rest := r.token()
	if rest == "" {
		return Char(cp), nil
	}
	name := string(cp) + rest
	if c, ok := charNames[name]; ok {
		return Char(c), nil
	}
	if cp == 'u' && len(rest) == 4 {
		if n, err := strconv.ParseUint(rest, 16, 32); err == nil {
			return Char(rune(n)), nil
		}
	}
	if cp == 'o' && len(rest) <= 3 {
		if n, err := strconv.ParseUint(rest, 8, 32); err == nil && n <= 0377 {
			return Char(rune(n)), nil
		}
	}
	r.pos = start
	return nil, r.fail("invalid character \\%s", name)
}

// parseInstant reads Clojure's #inst grammar: yyyy[-MM[-dd[Thh[:mm[:ss[.fff...]]]]]] then optional
// Z or +hh:mm / -hh:mm. The result is in UTC, truncated to the millisecond.
func parseInstant(s string) (time.Time, bool) {
	p := 0
	num := func(n int) (int, bool) {
		if p+n > len(s) {
			return 0, false
		}
		v := 0
		for i := 0; i < n; i++ {
			c := s[p+i]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		p += n
		return v, true
	}
	sign := 1
	if p < len(s) && (s[p] == '-' || s[p] == '+') {
		if s[p] == '-' {
			sign = -1
		}
		p++
	}
	digits := 0
	for p+digits < len(s) && s[p+digits] >= '0' && s[p+digits] <= '9' {
		digits++
	}
	if digits < 4 || digits > 9 {
		return time.Time{}, false
	}
	year, _ := num(digits)
	year *= sign
	month, day, hour, minute, sec, nanos := 1, 1, 0, 0, 0, 0
	var ok bool
	at := func(c byte) bool {
		if p < len(s) && s[p] == c {
			p++
			return true
		}
		return false
	}
	if at('-') {
		if month, ok = num(2); !ok {
			return time.Time{}, false
		}
		if at('-') {
			if day, ok = num(2); !ok {
				return time.Time{}, false
			}
			if at('T') || at('t') {
				if hour, ok = num(2); !ok {
					return time.Time{}, false
				}
				if at(':') {
					if minute, ok = num(2); !ok {
						return time.Time{}, false
					}
					if at(':') {
						if sec, ok = num(2); !ok {
							return time.Time{}, false
						}
						if at('.') {
							n, scale := 0, 100000000
							start := p
							for p < len(s) && s[p] >= '0' && s[p] <= '9' {
								n += int(s[p]-'0') * scale
								scale /= 10
								p++
							}
							if p == start {
								return time.Time{}, false
							}
							nanos = n / 1000000 * 1000000
						}
					}
				}
			}
		}
	}
	offset := 0
	if p < len(s) {
		switch s[p] {
		case 'Z', 'z':
			p++
		case '+', '-':
			neg := s[p] == '-'
			p++
			oh, ok1 := num(2)
			if !at(':') {
				return time.Time{}, false
			}
			om, ok2 := num(2)
			if !ok1 || !ok2 || oh > 23 || om > 59 {
				return time.Time{}, false
			}
			offset = oh*3600 + om*60
			if neg {
				offset = -offset
			}
		}
	}
	if p != len(s) || month < 1 || month > 12 || hour > 23 || minute > 59 || sec > 60 ||
		(sec == 60 && minute != 59) {
		return time.Time{}, false
	}
	dim := time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
	if day < 1 || day > dim {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nanos, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), true
}
