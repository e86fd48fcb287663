package datahike_test

import (
	"errors"
	"math"
	"math/big"
	"testing"
	"time"

	dh "github.com/datahike-cpp/datahike/bindings/go"
)

func TestEDNRoundTrip(t *testing.T) {
	for _, text := range []string{
		`nil`, `true`, `false`, `42`, `-7`, `123456789012345678901234567890N`, `7N`, `1.5`, `-0.0`, `1e+21`,
		`##Inf`, `##-Inf`, `1.50M`, `"a \"q\" \\ \n\t\u0001"`, `\a`, `\newline`, `:ns/name`, `:a`, `?e`, `$`,
		`#inst "1985-04-12T23:20:50.520-00:00"`, `#uuid "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"`,
		`#bytes "aGVsbG8="`, `(pull ?e [*])`, `[1 [2 3] #{4}]`, `#{[3 "Alice" 20]}`, `{:a 1}`,
		`{[1 2] :vector-key}`, `[]`, `#{}`, `{}`,
	} {
		v, err := dh.ReadEDN(text)
		if err != nil {
			t.Errorf("%s: %v", text, err)
			continue
		}
		back, err := dh.PrintEDN(v)
		if err != nil {
			t.Errorf("%s: %v", text, err)
			continue
		}
		again, err := dh.ReadEDN(back)
		if err != nil || !dh.Equal(v, again) {
			t.Errorf("%s printed as %s reads back as %v (%v)", text, back, again, err)
		}
	}
}

func TestEDNReadsGoValues(t *testing.T) {
	v, err := dh.ReadEDN(`{:n 1 :big 99999999999999999999 :d 2.5 :m 3.0M :s "x" :k :y
	  :t #inst "2024-01-02T03:04:05.678+01:00" :v [1 2] :l (a b) :set #{1} 'q 0x1F, 2r101 :five ; comment
	  #_ :discarded :c \space}`)
	if err != nil {
		t.Fatal(err)
	}
	m := v.(map[any]any)
	big99, _ := new(big.Int).SetString("99999999999999999999", 10)
	checks := map[string]any{"n": int64(1), "big": big99, "d": 2.5, "m": dh.Decimal("3.0"), "s": "x",
		"k": dh.Keyword("y"), "t": time.Date(2024, 1, 2, 2, 4, 5, 678000000, time.UTC),
		"v": []any{int64(1), int64(2)}, "l": dh.List{dh.Symbol("a"), dh.Symbol("b")}, "set": dh.Set{int64(1)},
		"c": dh.Char(' ')}
	for k, want := range checks {
		if got := m[dh.Keyword(k)]; !dh.Equal(got, want) {
			t.Errorf(":%s = %#v, want %#v", k, got, want)
		}
	}
	if m[dh.EDN("(quote q)")] != int64(31) || m[int64(5)] != dh.Keyword("five") {
		t.Errorf("quote key / hex / radix: %v", m)
	}
}

func TestEDNErrors(t *testing.T) {
	for _, text := range []string{``, `[1 2`, `{:a}`, `"abc`, `#foo 1`, `1/2`, `01`, `:`, `#inst "2024-02-30"`,
		`#uuid "nope"`, `[1] 2`, `]`, `^:meta x`, `"\q"`} {
		_, err := dh.ReadEDN(text)
		if !errors.Is(err, dh.ErrParse) {
			t.Errorf("%q: %v, want a parse error", text, err)
		}
	}
}

func TestEDNPrintsGoTypes(t *testing.T) {
	u, _ := dh.ParseUUID("f81d4fae-7dec-11d0-a765-00a0c91e6bf6")
	for _, c := range []struct {
		v    any
		want string
	}{
		{[]int{1, 2}, `[1 2]`},
		{map[dh.Keyword]any{"b": 1, "a": "x"}, `{:a "x", :b 1}`},
		{dh.OrderedMap{{Key: dh.Keyword("b"), Value: 1}, {Key: dh.Keyword("a"), Value: 2}}, `{:b 1, :a 2}`},
		{uint64(math.MaxUint64), `18446744073709551615N`},
		{float32(0.1), `0.1`},
		{3.0, `3.0`},
		{big.NewFloat(1.25), `1.25M`},
		{dh.Decimal("1.50"), `1.50M`},
		{u, `#uuid "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"`},
		{time.Date(2020, 1, 1, 1, 0, 0, 0, time.FixedZone("x", 3600)), `#inst "2020-01-01T00:00:00.000-00:00"`},
		{dh.EDN(`#inst "2020"`), `#inst "2020"`},
		{[]byte("hello"), `#bytes "aGVsbG8="`},
		{dh.List{dh.Symbol("count"), dh.Symbol("?e")}, `(count ?e)`},
		{[]any{dh.Keyword("db/add"), -1, dh.Keyword("name"), "x"}, `[:db/add -1 :name "x"]`},
	} {
		got, err := dh.PrintEDN(c.v)
		if err != nil || got != c.want {
			t.Errorf("%#v printed %q (%v), want %q", c.v, got, err, c.want)
		}
	}
	if _, err := dh.PrintEDN(struct{}{}); !errors.Is(err, dh.ErrMisuse) {
		t.Errorf("a struct: %v", err)
	}
}

// The reader never panics: any text is a value or a parse error, and a value prints and reads back.
func FuzzReadEDN(f *testing.F) {
	for _, s := range []string{`{:a [1 2.5 "x" #{\c}]}`, `#inst "2020-01-01T00:00:00Z"`, `(q ?x $ %)`,
		`#uuid "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"`, `1.5M`, `-0x1fN`, `"\u00e9\0"`, `#_ 1 2`, `'a`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		v, err := dh.ReadEDN(text)
		if err != nil {
			if !errors.Is(err, dh.ErrParse) {
				t.Fatalf("%q: %v", text, err)
			}
			return
		}
		printed, err := dh.PrintEDN(v)
		if err != nil {
			t.Fatalf("%q read as %#v does not print: %v", text, v, err)
		}
		if _, err := dh.ReadEDN(printed); err != nil {
			t.Fatalf("%q printed as %q does not read back: %v", text, printed, err)
		}
	})
}
