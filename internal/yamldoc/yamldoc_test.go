package yamldoc_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/yamldoc"
)

type doc struct {
	Name  string            `yaml:"name"`
	Count int               `yaml:"count"`
	Ratio float64           `yaml:"ratio"`
	On    bool              `yaml:"on"`
	At    time.Time         `yaml:"at"`
	Tags  []string          `yaml:"tags"`
	Env   map[string]inner  `yaml:"env"`
	Label map[string]string `yaml:"label"`
	Next  *inner            `yaml:"next"`
}

type inner struct {
	Max int `yaml:"max"`
}

func decode(t *testing.T, src string) (doc, error) {
	t.Helper()
	var d doc
	return d, yamldoc.Decode("t.yaml", []byte(src), &d).Err()
}

func TestDecodes(t *testing.T) {
	d, err := decode(t, `name: x
count: 3
ratio: 0.5
on: true
at: 2026-01-02T03:04:05+08:00
tags: [a, b]
env: { prod: { max: 1 }, test: { max: 9 } }
label: { k: v }
next: { max: 2 }
`)
	if err != nil {
		t.Fatal(err)
	}
	if d.Name != "x" || d.Count != 3 || d.Ratio != 0.5 || !d.On || d.At.Unix() != 1767294245 || strings.Join(d.Tags, ",") != "a,b" ||
		d.Env["test"].Max != 9 || d.Label["k"] != "v" || d.Next == nil || d.Next.Max != 2 {
		t.Errorf("decoded %+v", d)
	}
}

func TestProblems(t *testing.T) {
	_, err := decode(t, `name: [x]
count: 1.5
on: maybe
env: { prod: { max: one, min: 1 } }
tags: a
`)
	want := `t.yaml:1:7: name: must be a plain value, not a list
t.yaml:2:8: count: "1.5" is not a whole number
t.yaml:3:5: on: "maybe" is not true or false
t.yaml:4:21: env.prod.max: "one" is not a whole number
t.yaml:4:26: env.prod.min: unknown field "min" (known: max)
t.yaml:5:7: tags: must be a list, not "a"`
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}

func TestHostileInput(t *testing.T) {
	// A billion laughs: nine levels of nine aliases.
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := range 9 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a" + string(rune('0'+i-1)))
		}
		b.WriteString("]\n")
	}
	var d struct {
		L8 [][][][][][][][][]string `yaml:"a8"`
	}
	err := yamldoc.Decode("bomb.yaml", []byte(b.String()), &d).Err()
	if err == nil || !strings.Contains(err.Error(), "too many values") {
		t.Errorf("alias bomb: %v", err)
	}
	deep := strings.Repeat("{n: ", 100) + "{}" + strings.Repeat("}", 100)
	var dd node
	if err := yamldoc.Decode("deep.yaml", []byte("n: "+deep), &dd).Err(); err == nil || !strings.Contains(err.Error(), "nested too deeply") {
		t.Errorf("deep nesting: %v", err)
	}
	for _, src := range []string{"", "a: 1\n---\nb: 2\n", "name: *nope\n", "{", "name: 1\nname: 2\n", "<<: {name: x}\n"} {
		var d doc
		if err := yamldoc.Decode("x.yaml", []byte(src), &d).Err(); err == nil {
			t.Errorf("%q decoded without a problem", src)
		}
	}
}

type node struct {
	N *node `yaml:"n"`
}

func TestSeveralDocuments(t *testing.T) {
	var d doc
	src := []byte("name: a\n---\nname: b\n")
	doc := yamldoc.Decode("two.yaml", src, &d)
	if doc.Decoded() || doc.Err() == nil || doc.Err().Error() != "two.yaml:3:1: one document per file: found 2" {
		t.Errorf("decoded %v, err %v", doc.Decoded(), doc.Err())
	}
	err := yamldoc.Decode("two.yaml", src, &d, yamldoc.Noun("drill")).Err()
	if err == nil || err.Error() != "two.yaml:3:1: one drill per file: found 2 documents" {
		t.Errorf("with a noun: %v", err)
	}
	if doc := yamldoc.Decode("one.yaml", []byte("name: a\n"), &d); !doc.Decoded() || doc.Err() != nil {
		t.Errorf("one document: decoded %v, err %v", doc.Decoded(), doc.Err())
	}
}

func TestMergeKeysAndUnknownAliases(t *testing.T) {
	_, err := decode(t, "next:\n  <<: {max: 1}\nname: *nope\n")
	want := `t.yaml:2:3: next: merge keys (<<) are not supported
t.yaml:3:7: name: alias *nope has no anchor`
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}

// TestOneProblemPerMistake: a value of the wrong shape is reported once;
// the caller's later check of the same path stays quiet, a check of
// another path does not.
func TestOneProblemPerMistake(t *testing.T) {
	var d doc
	doc := yamldoc.Decode("t.yaml", []byte("name: [x]\ncount: 1\n"), &d)
	if _, ok := doc.Errorf("name", "is required"); ok {
		t.Error("Errorf recorded a second problem at a malformed path")
	}
	p, ok := doc.Errorf("count", "is odd")
	if !ok || p.String() != "t.yaml:2:8: count: is odd" {
		t.Errorf("Errorf returned %v, %v", p, ok)
	}
	doc.KeyErrorf("count", "is spelt wrong")
	doc.Errorf("next.max", "is required") // missing: at the nearest ancestor given, here the document
	want := `t.yaml:1:1: next.max: is required
t.yaml:1:7: name: must be a plain value, not a list
t.yaml:2:1: count: is spelt wrong
t.yaml:2:8: count: is odd`
	if err := doc.Err(); err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}

func TestListsAsText(t *testing.T) {
	src := []byte("label: {a: [x, 2, *y], b: plain, c: 'q'}\nnext: &y {max: 1}\n")
	var d doc
	err := yamldoc.Decode("t.yaml", src, &d, yamldoc.ListsAsText()).Err()
	want := "t.yaml:2:10: label.a[2]: must be a plain value, not a mapping"
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	d = doc{}
	src = []byte("label: {a: [x, 2, *y], b: plain, c: 'q'}\ntags: &y [z]\n")
	err = yamldoc.Decode("t.yaml", src, &d, yamldoc.ListsAsText()).Err()
	if err == nil || err.Error() != "t.yaml:2:10: label.a[2]: must be a plain value, not a list" {
		t.Errorf("alias to a list: %v", err)
	}
	d = doc{}
	src = []byte("label: {a: [x, 2, y], b: plain, c: 'q', d: *v}\nname: &v z\n")
	if err := yamldoc.Decode("t.yaml", src, &d, yamldoc.ListsAsText()).Err(); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(d.Label); got != "map[a:x,2,y b:plain c:q d:z]" {
		t.Errorf("labels %s", got)
	}
	err = yamldoc.Decode("t.yaml", []byte("label: {a: ~, b: {c: d}}\n"), &d, yamldoc.ListsAsText()).Err()
	want = `t.yaml:1:12: label.a: must be a plain value or a list of them, not a null
t.yaml:1:18: label.b: must be a plain value or a list of them, not a mapping`
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	// Without the option a list is not a string.
	if _, err := decode(t, "label: {a: [x]}\n"); err == nil || err.Error() != "t.yaml:1:12: label.a: must be a plain value, not a list" {
		t.Errorf("without ListsAsText: %v", err)
	}
}

// where decodes itself: "here" or a mapping {max: N}, as drill's from:.
type where struct {
	Here bool
	In   *inner
}

func (w *where) DecodeYAMLNode(n yamldoc.Node) {
	if s, ok := n.Text(); ok {
		if s != "here" {
			n.Errorf("%q is neither here nor a mapping", s)
		}
		w.Here = true
		return
	}
	w.In = &inner{}
	n.Decode(w.In)
}

func TestNodeDecoder(t *testing.T) {
	var v struct {
		A *where `yaml:"a"`
		B where  `yaml:"b"`
		C where  `yaml:"c"`
		D where  `yaml:"d"`
	}
	err := yamldoc.Decode("t.yaml", []byte("a: here\nb: {max: 3}\nc: there\nd: {min: 1}\n"), &v).Err()
	want := `t.yaml:3:4: c: "there" is neither here nor a mapping
t.yaml:4:5: d.min: unknown field "min" (known: max)`
	if err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
	if v.A == nil || !v.A.Here || v.B.In == nil || v.B.In.Max != 3 {
		t.Errorf("decoded %+v %+v", v.A, v.B)
	}
}

func TestOffsetErrorf(t *testing.T) {
	src := "name: abc def\nlabel:\n  q: \"abc def\"\n  b: |\n    abc def\n"
	var d doc
	doc := yamldoc.Decode("t.yaml", []byte(src), &d)
	for _, path := range []string{"name", "label.q", "label.b", "label.none"} {
		doc.OffsetErrorf(path, 4, "bad word")
	}
	// Plain: the text starts at the value; quoted: one column later;
	// block and missing values: at the value or nearest ancestor.
	want := `t.yaml:1:11: name: bad word
t.yaml:2:1: label.none: bad word
t.yaml:3:11: label.q: bad word
t.yaml:4:6: label.b: bad word`
	if err := doc.Err(); err == nil || err.Error() != want {
		t.Errorf("got\n%v\nwant\n%s", err, want)
	}
}

func TestFieldName(t *testing.T) {
	type s struct {
		A int `yaml:"a,omitempty"`
		B int `yaml:"-"`
		C int
		d int `yaml:"d"`
	}
	ty := reflect.TypeFor[s]()
	var got []string
	for i := range ty.NumField() {
		got = append(got, yamldoc.FieldName(ty.Field(i)))
	}
	if strings.Join(got, ",") != "a,,," {
		t.Errorf("names %q", got)
	}
	_ = s{d: 0}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("name: x\ncount: 3\nenv: {prod: {max: 1}}\nnext: &n {max: 2}\nlabel: {a: [x, *n]}\n"))
	f.Add([]byte("a: &a [x, x]\nb: &b [*a, *a]\ntags: *b\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opts := range [][]yamldoc.Option{nil, {yamldoc.ListsAsText(), yamldoc.Noun("drill")}} {
			var d doc
			doc := yamldoc.Decode("fuzz.yaml", data, &d, opts...)
			err := doc.Err()
			if (err == nil) != (len(doc.Problems()) == 0) {
				t.Fatalf("Err %v with %d problems", err, len(doc.Problems()))
			}
			for _, p := range doc.Problems() {
				if p.File != "fuzz.yaml" || p.Message == "" || p.Line < 0 || p.Column < 0 {
					t.Fatalf("malformed problem %+v", p)
				}
			}
		}
	})
}
