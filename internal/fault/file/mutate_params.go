package file

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// MutateParams are the parameters of file.mutate.
type MutateParams struct {
	Path      string           `param:"path,required,target" help:"the delimited (CSV) or fixed-width file; it must lie inside the file roots"`
	Record    int              `param:"record" min:"1" help:"the record to change, counting from 1 with the header (the line number when no field holds a line break; blank lines do not count in delimited files); or --match"`
	Match     string           `param:"match" help:"FIELD=VALUE: change the one record whose field holds VALUE (FIELD as in --field)"`
	Field     string           `param:"field" help:"the field to change: a 1-based index or a name from the header (the first record)"`
	Value     Text             `param:"value" help:"the new value (may be empty); or --op"`
	Op        string           `param:"op" help:"add:DECIMAL (exact decimal sum), negate, or swap:I,J (exchange two fields; no --field)"`
	Delimiter string           `param:"delimiter" default:"," help:"the field delimiter of a delimited file, one character (tab for a tab); quoting as RFC 4180"`
	Width     string           `param:"width" help:"fixed-width records: the widths of the fields in bytes, as 10,8,12"`
	MaxSize   bulwark.ByteSize `param:"max-size" default:"64MiB" min:"1" unit:"bytes" help:"refuse larger files (the file is read whole and backed up)"`
}

// Text is a string parameter that remembers whether it was given, so that
// an empty --value differs from none.
type Text struct {
	S     string
	Given bool
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (t *Text) UnmarshalText(b []byte) error {
	*t = Text{S: string(b), Given: true}
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (t Text) MarshalText() ([]byte, error) { return []byte(t.S), nil }

// Validate checks the combinations of parameters.
func (p *MutateParams) Validate() error {
	if p.Delimiter == "tab" || p.Delimiter == `\t` {
		p.Delimiter = "\t"
	}
	switch {
	case (p.Record == 0) == (p.Match == ""):
		return &fault.ParamError{Param: "record", Message: "give either --record or --match"}
	case p.Match != "" && !strings.Contains(p.Match, "="):
		return &fault.ParamError{Param: "match", Message: "want FIELD=VALUE"}
	case p.Value.Given == (p.Op != ""):
		return &fault.ParamError{Param: "value", Message: "give either --value or --op"}
	case utf8.RuneCountInString(p.Delimiter) != 1 || strings.ContainsAny(p.Delimiter, "\"\r\n") || p.Delimiter == string(utf8.RuneError):
		return &fault.ParamError{Param: "delimiter", Message: fmt.Sprintf("%q is not one character other than a quote or a line break", p.Delimiter)}
	}
	if p.Op != "" {
		o, err := parseOp(p.Op)
		if err != nil {
			return &fault.ParamError{Param: "op", Message: err.Error()}
		}
		if (o.name == "swap") != (p.Field == "") {
			return &fault.ParamError{Param: "field", Message: "goes with every change but --op swap, which names its own two fields"}
		}
	} else if p.Field == "" {
		return &fault.ParamError{Param: "field", Message: "is required"}
	}
	if _, err := p.widths(); err != nil {
		return err
	}
	return nil
}

// widths parses --width.
func (p *MutateParams) widths() ([]int, error) {
	if p.Width == "" {
		return nil, nil
	}
	var out []int
	for _, s := range strings.Split(p.Width, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return nil, &fault.ParamError{Param: "width", Message: fmt.Sprintf("%q: want positive field widths, as 10,8,12", p.Width)}
		}
		out = append(out, n)
	}
	return out, nil
}
