package file

import (
	"errors"
	"fmt"
	"math/big"
	"regexp"
	"strings"
	"sync"
)

// decimalRE is what add and negate accept: an optional sign, digits, and
// an optional fraction.
var decimalRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[+-]?[0-9]+(\.[0-9]+)?$`) })

// op is a parsed --op: add:DECIMAL, negate or swap:I,J.
type op struct {
	name string
	arg  string // add: the decimal
	a, b string // swap: the two fields
}

// parseOp parses --op.
func parseOp(s string) (op, error) {
	name, arg, _ := strings.Cut(s, ":")
	switch name {
	case "negate":
		if arg != "" {
			return op{}, errors.New("negate takes no argument")
		}
		return op{name: name}, nil
	case "add":
		if !decimalRE().MatchString(arg) {
			return op{}, fmt.Errorf("add:%s: want a decimal number, as add:0.01 or add:-5", arg)
		}
		return op{name: name, arg: arg}, nil
	case "swap":
		a, b, ok := strings.Cut(arg, ",")
		if !ok || a == "" || b == "" || a == b {
			return op{}, fmt.Errorf("swap:%s: want two different fields, as swap:2,3", arg)
		}
		return op{name: name, a: a, b: b}, nil
	}
	return op{}, fmt.Errorf("%q is not one of add:DECIMAL, negate, swap:I,J", s)
}

// addDecimal adds two decimals exactly, keeping the larger number of
// fraction digits ("100.5" + "0.01" = "100.51").
func addDecimal(a, b string) (string, error) {
	if !decimalRE().MatchString(a) {
		return "", fmt.Errorf("the value is not a decimal number")
	}
	scale := max(fracDigits(a), fracDigits(b))
	x, y := scaled(a, scale), scaled(b, scale)
	sum := new(big.Int).Add(x, y)
	neg := sum.Sign() < 0
	digits := new(big.Int).Abs(sum).String()
	if scale > 0 {
		if len(digits) <= scale {
			digits = strings.Repeat("0", scale-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-scale] + "." + digits[len(digits)-scale:]
	}
	if neg {
		digits = "-" + digits
	}
	return digits, nil
}

func fracDigits(s string) int {
	if _, f, ok := strings.Cut(s, "."); ok {
		return len(f)
	}
	return 0
}

// scaled returns s times 10^scale as an integer.
func scaled(s string, scale int) *big.Int {
	whole, frac, _ := strings.Cut(s, ".")
	n, _ := new(big.Int).SetString(whole+frac+strings.Repeat("0", scale-len(frac)), 10)
	return n
}

// negate flips the sign of a decimal.
func negate(v string) (string, error) {
	if !decimalRE().MatchString(v) {
		return "", fmt.Errorf("the value is not a decimal number")
	}
	switch v[0] {
	case '-':
		return v[1:], nil
	case '+':
		return "-" + v[1:], nil
	}
	return "-" + v, nil
}
