package fault

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/bulwarkhq/bulwark"
)

// A kind's parameters are an exported struct whose fields carry tags:
//
//	Percent bulwark.Percent `param:"percent,required" help:"load to add per core" unit:"%"`
//	Cores   int             `param:"cores" default:"1" min:"1" max:"4096"`
//	Mode    string          `param:"mode" default:"add" enum:"add,hold"`
//	PID     int             `param:"pid,target"`
//
// The param tag gives the name used on the command line (--percent), in drill
// files and in the API, then options: "required", and "target" for fields that
// say where the fault lands (they may come from a drill step's target map).
// Field types are string, bool, int, int64, float64, any type implementing
// encoding.TextUnmarshaler (the bulwark unit types), and slices of those
// (comma-separated). This one schema drives CLI flags, `fault kinds --json`,
// and decoding everywhere.

// Param describes one parameter of a kind.
type Param struct {
	Name     string   `json:"name"`
	Type     string   `json:"type"`
	Unit     string   `json:"unit,omitempty"`
	Default  string   `json:"default,omitempty"`
	Required bool     `json:"required,omitempty"`
	Target   bool     `json:"target,omitempty"`
	Min      *float64 `json:"min,omitempty"`
	Max      *float64 `json:"max,omitempty"`
	Enum     []string `json:"enum,omitempty"`
	// Aliases are other names accepted for the parameter (a drill step's
	// target: {address: …} for a kind whose flag is --target).
	Aliases []string `json:"aliases,omitempty"`
	Help    string   `json:"help,omitempty"`
	field   []int
}

// Validator is implemented by parameter structs with checks beyond the tags
// (one field depending on another). It runs after defaults and range checks.
type Validator interface {
	Validate() error
}

// ParamError names the parameter that was wrong. The CLI prints it as
// "--name: message" and exits 2.
type ParamError struct {
	Param   string
	Message string
}

// Error implements error.
func (e *ParamError) Error() string { return fmt.Sprintf("--%s: %s", e.Param, e.Message) }

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()

// SchemaOf returns the parameter schema of a pointer to a params struct.
// An embedded struct without a param tag contributes its fields in place,
// so that kinds can share a group of parameters (a flow filter, a target).
func SchemaOf(params any) ([]Param, error) {
	t := reflect.TypeOf(params)
	if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct {
		return nil, fmt.Errorf("params must be a pointer to a struct, not %v", t)
	}
	out, err := schemaOf(t.Elem(), nil)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, p := range out {
		if seen[p.Name] {
			return nil, fmt.Errorf("param %q is declared twice", p.Name)
		}
		seen[p.Name] = true
	}
	return out, nil
}

func schemaOf(t reflect.Type, prefix []int) ([]Param, error) {
	var out []Param
	for i := range t.NumField() {
		f := t.Field(i)
		index := append(append([]int{}, prefix...), f.Index...)
		tag, ok := f.Tag.Lookup("param")
		if !ok {
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				inner, err := schemaOf(f.Type, index)
				if err != nil {
					return nil, err
				}
				out = append(out, inner...)
			}
			continue
		}
		p, err := paramFromField(f, tag)
		if err != nil {
			return nil, fmt.Errorf("field %s: %w", f.Name, err)
		}
		p.field = index
		out = append(out, p)
	}
	return out, nil
}

func paramFromField(f reflect.StructField, tag string) (Param, error) {
	parts := strings.Split(tag, ",")
	p := Param{Name: parts[0], Help: f.Tag.Get("help"), Unit: f.Tag.Get("unit"), Default: f.Tag.Get("default")}
	for _, opt := range parts[1:] {
		switch opt {
		case "required":
			p.Required = true
		case "target":
			p.Target = true
		default:
			return p, fmt.Errorf("unknown param option %q", opt)
		}
	}
	if p.Name == "" || strings.ToLower(p.Name) != p.Name || strings.ContainsAny(p.Name, " _=") {
		return p, fmt.Errorf("param name %q must be lower-case kebab", p.Name)
	}
	typ, err := typeName(f.Type)
	if err != nil {
		return p, err
	}
	p.Type = typ
	if e := f.Tag.Get("enum"); e != "" {
		p.Enum = strings.Split(e, ",")
	}
	if a := f.Tag.Get("alias"); a != "" {
		p.Aliases = strings.Split(a, ",")
	}
	for _, b := range []struct {
		tag string
		dst **float64
	}{{"min", &p.Min}, {"max", &p.Max}} {
		if s := f.Tag.Get(b.tag); s != "" {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return p, fmt.Errorf("bad %s tag %q", b.tag, s)
			}
			*b.dst = &v
		}
	}
	return p, nil
}

func typeName(t reflect.Type) (string, error) {
	if reflect.PointerTo(t).Implements(textUnmarshaler) {
		return strings.ToLower(t.Name()), nil
	}
	switch t.Kind() {
	case reflect.String:
		return "string", nil
	case reflect.Bool:
		return "bool", nil
	case reflect.Int, reflect.Int64:
		return "int", nil
	case reflect.Float64:
		return "number", nil
	case reflect.Slice:
		el, err := typeName(t.Elem())
		if err != nil {
			return "", err
		}
		return "list of " + el, nil
	}
	return "", fmt.Errorf("unsupported param type %v", t)
}

// Decode builds the kind's params struct from text values keyed by parameter
// name: unknown names, missing required ones and bad values are *ParamError.
// Defaults fill what is absent; ranges, enums and the struct's own Validate
// are checked last.
func Decode(info KindInfo, values map[string]string) (any, error) {
	params := info.NewParams()
	schema, err := SchemaOf(params)
	if err != nil {
		return nil, err
	}
	values, err = resolveAliases(info, schema, values)
	if err != nil {
		return nil, err
	}
	v := reflect.ValueOf(params).Elem()
	for _, p := range schema {
		text, given := values[p.Name]
		if !given {
			if p.Required {
				return nil, &ParamError{p.Name, "is required"}
			}
			if p.Default == "" {
				continue
			}
			text = p.Default
		}
		if err := setField(v.FieldByIndex(p.field), text); err != nil {
			return nil, &ParamError{p.Name, err.Error()}
		}
		if err := p.check(v.FieldByIndex(p.field), text); err != nil {
			return nil, err
		}
	}
	if val, ok := params.(Validator); ok {
		if err := val.Validate(); err != nil {
			var pe *ParamError
			if errors.As(err, &pe) {
				return nil, pe
			}
			return nil, bulwark.Errorf(bulwark.EINVALID, "%s: %v", info.ID, err)
		}
	}
	return params, nil
}

// resolveAliases renames aliased parameters to their names and refuses
// unknown names and a parameter given under two names.
func resolveAliases(info KindInfo, schema []Param, values map[string]string) (map[string]string, error) {
	out := make(map[string]string, len(values))
	for name, v := range values {
		i := slices.IndexFunc(schema, func(p Param) bool { return p.Name == name || slices.Contains(p.Aliases, name) })
		if i < 0 {
			return nil, &ParamError{name, fmt.Sprintf("%s has no parameter %q (it has: %s)", info.ID, name, paramNames(schema))}
		}
		canon := schema[i].Name
		if _, dup := out[canon]; dup {
			return nil, &ParamError{canon, "given twice (under its name and an alias)"}
		}
		out[canon] = v
	}
	return out, nil
}

func paramNames(schema []Param) string {
	var names []string
	for _, p := range schema {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

func (p Param) check(fv reflect.Value, text string) error {
	if len(p.Enum) > 0 && !slices.Contains(p.Enum, text) {
		return &ParamError{p.Name, fmt.Sprintf("%q is not one of %s", text, strings.Join(p.Enum, ", "))}
	}
	n, numeric := numberOf(fv)
	if !numeric {
		return nil
	}
	if p.Min != nil && n < *p.Min || p.Max != nil && n > *p.Max {
		return &ParamError{p.Name, fmt.Sprintf("%s is out of range (%s)", text, p.rangeText())}
	}
	return nil
}

func (p Param) rangeText() string {
	f := func(x *float64) string { return strconv.FormatFloat(*x, 'f', -1, 64) }
	switch {
	case p.Min != nil && p.Max != nil:
		return f(p.Min) + " to " + f(p.Max)
	case p.Min != nil:
		return "at least " + f(p.Min)
	default:
		return "at most " + f(p.Max)
	}
}

func numberOf(v reflect.Value) (float64, bool) {
	switch v.Kind() {
	case reflect.Int, reflect.Int64:
		return float64(v.Int()), true
	case reflect.Float64:
		return v.Float(), true
	}
	return 0, false
}

func setField(v reflect.Value, text string) error {
	if u, ok := v.Addr().Interface().(encoding.TextUnmarshaler); ok {
		return u.UnmarshalText([]byte(text))
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(text)
	case reflect.Bool:
		b, err := strconv.ParseBool(text)
		if err != nil {
			return fmt.Errorf("%q is not true or false", text)
		}
		v.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a whole number", text)
		}
		v.SetInt(n)
	case reflect.Float64:
		n, err := strconv.ParseFloat(strings.TrimSpace(text), 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", text)
		}
		v.SetFloat(n)
	case reflect.Slice:
		return setSlice(v, text)
	default:
		return fmt.Errorf("unsupported type %v", v.Type())
	}
	return nil
}

func setSlice(v reflect.Value, text string) error {
	parts := strings.Split(text, ",")
	s := reflect.MakeSlice(v.Type(), len(parts), len(parts))
	for i, part := range parts {
		if err := setField(s.Index(i), strings.TrimSpace(part)); err != nil {
			return err
		}
	}
	v.Set(s)
	return nil
}

// Encode returns the canonical text of every parameter that is set, keyed by
// name: what the journal and `fault list` show.
func Encode(params any) map[string]string {
	schema, err := SchemaOf(params)
	if err != nil {
		return nil
	}
	out := map[string]string{}
	v := reflect.ValueOf(params).Elem()
	for _, p := range schema {
		fv := v.FieldByIndex(p.field)
		if fv.IsZero() {
			continue
		}
		out[p.Name] = textOf(fv)
	}
	return out
}

func textOf(v reflect.Value) string {
	if m, ok := v.Interface().(encoding.TextMarshaler); ok {
		b, err := m.MarshalText()
		if err == nil {
			return string(b)
		}
	}
	if v.Kind() == reflect.Slice {
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = textOf(v.Index(i))
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v.Interface())
}
