package yamldoc_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/calendar/yamldoc"
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
