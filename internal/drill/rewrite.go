package drill

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
)

// rewritten is an expression after rewrite, with a map back to the source.
type rewritten struct {
	text   string
	orig   []int // orig[i] is the source rune offset of output rune i
	probes []string
}

func (r *rewritten) origOffset(i int) int {
	if i >= 0 && i < len(r.orig) {
		return r.orig[i]
	}
	if len(r.orig) == 0 {
		return 0
	}
	return r.orig[len(r.orig)-1] + 1
}

type rewriter struct {
	src    []rune
	out    []rune
	orig   []int
	probes []string
	used   []string
}

func (w *rewriter) emit(s string, from int) {
	for _, r := range s {
		w.out = append(w.out, r)
		w.orig = append(w.orig, from)
	}
}

func (w *rewriter) copy(from, to int) {
	for i := from; i < to; i++ {
		w.out = append(w.out, w.src[i])
		w.orig = append(w.orig, i)
	}
}

func isIdent(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }

// rewrite turns NAME.metric into probe("NAME").metric and duration literals
// into duration("…"), leaving string literals alone.
func rewrite(src string, probes []string) (*rewritten, error) {
	w := &rewriter{src: []rune(src), probes: probes}
	for i := 0; i < len(w.src); {
		r := w.src[i]
		prevIdent := i > 0 && (isIdent(w.src[i-1]) || w.src[i-1] == '.')
		var next int
		var err error
		switch {
		case r == '"' || r == '\'' || r == '`':
			next = w.stringLit(i)
		case !prevIdent && r >= 'a' && r <= 'z':
			next, err = w.name(i)
		case !prevIdent && r >= '0' && r <= '9':
			next = w.number(i)
		default:
			w.copy(i, i+1)
			next = i + 1
		}
		if err != nil {
			return nil, err
		}
		i = next
	}
	slices.Sort(w.used)
	return &rewritten{text: string(w.out), orig: w.orig, probes: slices.Compact(w.used)}, nil
}

func (w *rewriter) stringLit(i int) int {
	q := w.src[i]
	j := i + 1
	for j < len(w.src) && w.src[j] != q {
		if w.src[j] == '\\' && q != '`' {
			j++
		}
		j++
	}
	j = min(j+1, len(w.src))
	w.copy(i, j)
	return j
}

// name handles an identifier that may be a probe name with dashes
// followed by .metric.
func (w *rewriter) name(i int) (int, error) {
	j := i
	for j < len(w.src) && (w.src[j] >= 'a' && w.src[j] <= 'z' || w.src[j] >= '0' && w.src[j] <= '9' || w.src[j] == '-') {
		j++
	}
	for j > i+1 && w.src[j-1] == '-' {
		j--
	}
	if j >= len(w.src) || w.src[j] != '.' || j+1 >= len(w.src) || !isIdent(w.src[j+1]) {
		// Not NAME.metric: copy the plain identifier part.
		k := i
		for k < len(w.src) && isIdent(w.src[k]) {
			k++
		}
		w.copy(i, k)
		return k, nil
	}
	name := string(w.src[i:j])
	m := j + 1
	for m < len(w.src) && isIdent(w.src[m]) {
		m++
	}
	metric := string(w.src[j+1 : m])
	if !slices.Contains(w.probes, name) {
		return 0, &CompileError{i, unknownProbe(name, w.probes)}
	}
	if !slices.Contains(MetricNames, metric) {
		return 0, &CompileError{j + 1, fmt.Sprintf("unknown metric %q of probe %q (metrics: %s)", metric, name, strings.Join(MetricNames, ", "))}
	}
	w.used = append(w.used, name)
	w.emit(fmt.Sprintf("probe(%q)", name), i)
	w.copy(j, m)
	return m, nil
}

// number rewrites a duration literal (500ms, 1m30s); other numbers are
// copied.
func (w *rewriter) number(i int) int {
	j := i
	for j < len(w.src) && (isIdent(w.src[j]) || w.src[j] == '.' && j+1 < len(w.src) && unicode.IsDigit(w.src[j+1])) {
		j++
	}
	lit := string(w.src[i:j])
	if strings.ContainsFunc(lit, unicode.IsLetter) && !strings.ContainsAny(lit, "eE_xX") {
		if _, err := time.ParseDuration(lit); err == nil {
			w.emit(fmt.Sprintf("duration(%q)", lit), i)
			return j
		}
	}
	w.copy(i, j)
	return j
}
