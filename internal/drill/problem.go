package drill

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong with a drill file, at a position.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`   // 1-based; 0 when the problem has no position
	Column  int    `json:"column"` // 1-based
	Path    string `json:"path"`   // field path, e.g. spec.steps[0].params.delay
	Message string `json:"message"`
	// UnknownScenario marks a scenario reference the library could not
	// resolve; Options.AllowUnknownScenarios turns these into warnings.
	UnknownScenario bool `json:"unknownScenario,omitempty"`
}

// String returns "file:line:col: path: message".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d:%d", p.Line, p.Column)
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// Error lists every problem Parse found, sorted by position. The CLI
// prints one per line and exits 2.
type Error struct {
	Problems []Problem
}

// Error implements error: one problem per line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// position is a 1-based line and column in the file.
type position struct{ line, col int }

// problems collects problems; positions come from the decoder's index.
type problems struct {
	file  string
	list  []Problem
	index *index
}

// at records a problem at an explicit position.
func (ps *problems) at(pos position, path, format string, args ...any) {
	ps.list = append(ps.list, Problem{File: ps.file, Line: pos.line, Column: pos.col, Path: path, Message: fmt.Sprintf(format, args...)})
}

// add records a problem at the value of path, or the nearest ancestor the
// file has (a missing field is reported at its parent).
func (ps *problems) add(path, format string, args ...any) {
	if ps.index.bad[path] {
		return
	}
	ps.at(ps.index.value(path), path, format, args...)
}

// addKey records a problem at the key of path (an unknown param, say).
func (ps *problems) addKey(path, format string, args ...any) {
	ps.at(ps.index.key(path), path, format, args...)
}

// sorted returns the problems ordered by position, then path, without
// exact duplicates.
func (ps *problems) sorted() []Problem {
	out := slices.Clone(ps.list)
	slices.SortStableFunc(out, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column), cmp.Compare(a.Path, b.Path))
	})
	return slices.Compact(out)
}

// index maps field paths to the positions of their keys and values.
type index struct {
	keys, values map[string]position
	// plain and quoted mark single-line scalars, so that a column inside
	// an expression can be mapped onto the file.
	plain, quoted map[string]bool
	// bad marks values the decoder already reported.
	bad map[string]bool
}

func newIndex() *index {
	return &index{keys: map[string]position{}, values: map[string]position{}, plain: map[string]bool{}, quoted: map[string]bool{}, bad: map[string]bool{}}
}

func (ix *index) value(path string) position {
	if pos, ok := ix.values[path]; ok {
		return pos
	}
	// A missing field is reported where its parent is named.
	for p := parentPath(path); ; p = parentPath(p) {
		if pos, ok := ix.keys[p]; ok {
			return pos
		}
		if pos, ok := ix.values[p]; ok {
			return pos
		}
		if p == "" {
			return position{}
		}
	}
}

func (ix *index) key(path string) position {
	if pos, ok := ix.keys[path]; ok {
		return pos
	}
	return ix.value(path)
}

// parentPath drops the last element of a path: a.b[0].c → a.b[0] → a.b → a.
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// join appends a field name to a path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// elem appends an index to a path.
func elem(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }
