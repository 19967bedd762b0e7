package yamldoc

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Problem is one thing wrong with a document, at a position.
type Problem struct {
	File    string `json:"file"`
	Line    int    `json:"line"`   // 1-based; 0 when the problem has no position
	Column  int    `json:"column"` // 1-based
	Path    string `json:"path"`   // field path, e.g. spec.sessions[0].start
	Message string `json:"message"`
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

// Error lists every problem found in a document, sorted by position. The
// CLI prints one per line and exits 2.
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

// index maps field paths to the positions of their keys and values.
type index struct {
	keys, values map[string]position
	// text holds, for strings written on one line, the column of their
	// text relative to their value: 0 if plain, 1 if quoted.
	text map[string]int
	bad  map[string]bool // values the decoder already reported
}

func newIndex() *index {
	return &index{keys: map[string]position{}, values: map[string]position{}, text: map[string]int{}, bad: map[string]bool{}}
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

// Join appends a field name to a path.
func Join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// Elem appends an index to a path.
func Elem(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// sortProblems orders problems by position, then path, without exact
// duplicates.
func sortProblems(list []Problem) []Problem {
	out := slices.Clone(list)
	slices.SortStableFunc(out, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column), cmp.Compare(a.Path, b.Path))
	})
	return slices.Compact(out)
}
