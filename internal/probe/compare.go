package probe

import (
	"fmt"
	"strconv"
)

// Op is a comparison operator for thresholds: <, <=, >, >=, == or !=.
type Op string

// The comparison operators.
const (
	OpLT Op = "<"
	OpLE Op = "<="
	OpGT Op = ">"
	OpGE Op = ">="
	OpEQ Op = "=="
	OpNE Op = "!="
)

// Validate reports whether o is one of the operators.
func (o Op) Validate() error {
	switch o {
	case OpLT, OpLE, OpGT, OpGE, OpEQ, OpNE:
		return nil
	}
	return fmt.Errorf("op %q is not one of <, <=, >, >=, ==, !=", string(o))
}

// Holds reports whether "v o threshold" is true. A NaN value satisfies only !=.
func (o Op) Holds(v, threshold float64) bool {
	switch o {
	case OpLT:
		return v < threshold
	case OpLE:
		return v <= threshold
	case OpGT:
		return v > threshold
	case OpGE:
		return v >= threshold
	case OpEQ:
		return v == threshold
	case OpNE:
		return v != threshold
	}
	return false
}

// formatFloat renders v for messages.
func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
