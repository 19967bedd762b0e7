package file

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// layout says how a file is cut into records and fields: delimited (CSV
// quoting, RFC 4180 as encoding/csv reads it) or fixed-width.
type layout struct {
	Delimiter string `json:"delimiter,omitempty"`
	Widths    []int  `json:"widths,omitempty"`
}

// record is one parsed record: its fields' values and byte spans.
type record struct {
	values []string
	spans  [][2]int // [start, end) in the file, quotes included
}

// parse cuts raw into records.
func (l layout) parse(raw []byte) ([]record, error) {
	if len(l.Widths) > 0 {
		return l.parseFixed(raw)
	}
	return l.parseDelimited(raw)
}

func (l layout) parseDelimited(raw []byte) ([]record, error) {
	lineStart := []int{0}
	for i, b := range raw {
		if b == '\n' {
			lineStart = append(lineStart, i+1)
		}
	}
	delim := []rune(l.Delimiter)[0]
	r := csv.NewReader(bytes.NewReader(raw))
	r.Comma, r.FieldsPerRecord = delim, -1
	var out []record
	for {
		vals, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		end := int(r.InputOffset())
		if end > 0 && raw[end-1] == '\n' {
			end--
			if end > 0 && raw[end-1] == '\r' {
				end--
			}
		}
		rec := record{values: vals, spans: make([][2]int, len(vals))}
		for i := range vals {
			line, col := r.FieldPos(i)
			rec.spans[i][0] = lineStart[line-1] + col - 1
		}
		for i := range vals {
			if i+1 < len(vals) {
				rec.spans[i][1] = rec.spans[i+1][0] - len(l.Delimiter)
			} else {
				rec.spans[i][1] = end
			}
		}
		out = append(out, rec)
	}
}

func (l layout) parseFixed(raw []byte) ([]record, error) {
	var out []record
	for start := 0; start < len(raw); {
		end := bytes.IndexByte(raw[start:], '\n')
		next := start + end + 1
		if end < 0 {
			end, next = len(raw)-start, len(raw)
		}
		line := raw[start : start+end]
		line = bytes.TrimSuffix(line, []byte("\r"))
		rec := record{}
		pos := 0
		for _, w := range l.Widths {
			if pos+w > len(line) {
				break
			}
			rec.values = append(rec.values, strings.TrimSpace(string(line[pos:pos+w])))
			rec.spans = append(rec.spans, [2]int{start + pos, start + pos + w})
			pos += w
		}
		out = append(out, rec)
		start = next
	}
	return out, nil
}

// fieldIndex resolves a 1-based index or a header name (in the first
// record) to a 0-based index.
func fieldIndex(recs []record, field string) (int, error) {
	if n, err := strconv.Atoi(field); err == nil {
		if n < 1 {
			return 0, fmt.Errorf("field %d: fields count from 1", n)
		}
		return n - 1, nil
	}
	if len(recs) == 0 {
		return 0, errors.New("the file has no header record")
	}
	found := -1
	for i, v := range recs[0].values {
		if v == field {
			if found >= 0 {
				return 0, fmt.Errorf("the header names %q twice", field)
			}
			found = i
		}
	}
	if found < 0 {
		return 0, fmt.Errorf("the header (%d fields) has no field %q", len(recs[0].values), field)
	}
	return found, nil
}

// encode writes v as field bytes: in a delimited file quoted when the old
// raw field was quoted or v needs it; in a fixed-width one padded to the
// width, aligned as the old value was.
func (l layout) encode(v, oldRaw string) (string, error) {
	if len(l.Widths) > 0 {
		w := len(oldRaw)
		if len(v) > w {
			return "", fmt.Errorf("%d bytes do not fit the field's width of %d", len(v), w)
		}
		pad := strings.Repeat(" ", w-len(v))
		if strings.HasPrefix(oldRaw, " ") && strings.TrimSpace(oldRaw) != "" {
			return pad + v, nil
		}
		return v + pad, nil
	}
	needs := strings.ContainsAny(v, l.Delimiter+"\"\r\n") || strings.HasPrefix(v, " ") || strings.HasPrefix(v, "\t")
	if !needs && !strings.HasPrefix(oldRaw, `"`) {
		return v, nil
	}
	return `"` + strings.ReplaceAll(v, `"`, `""`) + `"`, nil
}

// edit is one field change and its compensating undo. Start is the field's
// offset in the original file.
type edit struct {
	Record int    `json:"record"`
	Field  int    `json:"field"`
	Name   string `json:"name,omitempty"`
	Old    string `json:"old"`
	New    string `json:"new"`
	Start  int    `json:"start"`
	OldRaw string `json:"oldRaw"`
	NewRaw string `json:"newRaw"`
}

// forward makes the faulted bytes from the original; edits are in order of
// Start and do not overlap.
func forward(orig []byte, edits []edit) []byte {
	var out []byte
	prev := 0
	for _, e := range edits {
		out = append(append(out, orig[prev:e.Start]...), e.NewRaw...)
		prev = e.Start + len(e.OldRaw)
	}
	return append(out, orig[prev:]...)
}

// undo makes the original bytes from the faulted ones.
func undo(faulted []byte, edits []edit) ([]byte, error) {
	var out []byte
	prev, shift := 0, 0
	for _, e := range edits {
		s := e.Start + shift
		if s < prev || s+len(e.NewRaw) > len(faulted) || string(faulted[s:s+len(e.NewRaw)]) != e.NewRaw {
			return nil, fmt.Errorf("record %d field %d does not hold the value the fault wrote", e.Record, e.Field)
		}
		out = append(append(out, faulted[prev:s]...), e.OldRaw...)
		prev = s + len(e.NewRaw)
		shift += len(e.NewRaw) - len(e.OldRaw)
	}
	return append(out, faulted[prev:]...), nil
}
