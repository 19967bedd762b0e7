package policy

import (
	"encoding"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// unit is the class of a capped quantity, chosen by how the cap is written.
type unit int

const (
	unitNumber unit = iota
	unitDuration
	unitByteSize
	unitBitRate
	unitByteRate
	unitPercent
)

var unitNames = [...]string{"number", "duration", "size", "bit rate", "byte rate", "percentage"}

func (u unit) String() string { return unitNames[u] }

// quantity is a parsed cap or parameter value in its unit's base.
type quantity struct {
	unit unit
	v    float64
}

// parseCap reads a cap and chooses its unit from how it is written.
func parseCap(s string) (quantity, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return quantity{}, fmt.Errorf("is required")
	case strings.HasSuffix(s, "/s"):
		return parseIn(unitByteRate, s)
	case strings.HasSuffix(s, "bit"):
		return parseIn(unitBitRate, s)
	case strings.HasSuffix(s, "%"):
		return parseIn(unitPercent, s)
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return parseIn(unitNumber, s)
	}
	if q, err := parseIn(unitDuration, s); err == nil {
		return q, nil
	}
	if q, err := parseIn(unitByteSize, s); err == nil {
		return q, nil
	}
	return quantity{}, fmt.Errorf("%q is not a number, duration (200ms), size (1GiB), rate (10mbit, 10MiB/s) or percentage (50%%)", s)
}

// parseIn reads s with the parser of unit u: the root units parsers, one
// per type (contract 8).
func parseIn(u unit, s string) (quantity, error) {
	var v float64
	switch u {
	case unitDuration:
		d, err := bulwark.ParseDuration(s)
		if err != nil {
			return quantity{}, err
		}
		v = float64(d)
	case unitByteSize:
		b, err := bulwark.ParseByteSize(s)
		if err != nil {
			return quantity{}, err
		}
		v = float64(b)
	case unitBitRate:
		r, err := bulwark.ParseBitRate(s)
		if err != nil {
			return quantity{}, err
		}
		v = float64(r)
	case unitByteRate:
		r, err := bulwark.ParseByteRate(s)
		if err != nil {
			return quantity{}, err
		}
		v = float64(r)
	case unitPercent:
		p, err := bulwark.ParsePercent(s)
		if err != nil {
			return quantity{}, err
		}
		v = float64(p)
	default:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return quantity{}, fmt.Errorf("%q is not a number", s)
		}
		v = f
	}
	return quantity{unit: u, v: v}, nil
}

// valueIn reads a request parameter (text, a number, a typed unit value) in
// unit u. A bare number is accepted only for plain numbers, so that "200"
// never silently means 200ns or 200 bytes.
func valueIn(u unit, v any) (quantity, string, error) {
	var text string
	switch x := v.(type) {
	case string:
		text = x
	case bulwark.Duration:
		return quantity{unitDuration, float64(x)}, x.String(), checkUnit(u, unitDuration)
	case time.Duration:
		return quantity{unitDuration, float64(x)}, x.String(), checkUnit(u, unitDuration)
	case float64:
		text = strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		text = strconv.FormatFloat(float64(x), 'f', -1, 32)
	case int:
		text = strconv.Itoa(x)
	case int64:
		text = strconv.FormatInt(x, 10)
	case encoding.TextMarshaler:
		b, err := x.MarshalText()
		if err != nil {
			return quantity{}, "", err
		}
		text = string(b)
	case fmt.Stringer:
		text = x.String()
	default:
		return quantity{}, fmt.Sprint(v), fmt.Errorf("a %T cannot be read as a %s", v, u)
	}
	if u != unitNumber && u != unitPercent && u != unitByteSize {
		if _, err := strconv.ParseFloat(strings.TrimSpace(text), 64); err == nil {
			return quantity{}, text, fmt.Errorf("%q has no unit: write it as a %s", text, u)
		}
	}
	q, err := parseIn(u, text)
	return q, text, err
}

func checkUnit(want, got unit) error {
	if want != got {
		return fmt.Errorf("a %s where a %s is capped", got, want)
	}
	return nil
}
