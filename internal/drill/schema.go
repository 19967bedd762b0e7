package drill

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/yamldoc"
)

// SchemaID identifies the drill file schema.
const SchemaID = "urn:bulwark:schema:drill:v1"

const durationPattern = `^(0|([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$`

// JSONSchema returns a JSON Schema (draft 2020-12) of the drill file for
// editors. It is generated from the Go types and their tags, and from the
// parameter schema of every fault kind registered when it is called: a fault
// step's params are checked against its kind's. Parse remains the
// authority; the schema cannot express every rule (expressions, selectors
// against blastRadius, taxonomy ids).
func JSONSchema() []byte {
	g := &schemaGen{defs: map[string]any{}}
	root := map[string]any{
		"$schema":     "https://json-schema.org/draft/2020-12/schema",
		"$id":         SchemaID,
		"title":       "Bulwark drill file (apiVersion bulwark/v1, kind Drill)",
		"description": "Validate with `bulwark drill validate FILE`; this schema is a guide for editors.",
		"$ref":        g.ref(reflect.TypeFor[Drill]()),
	}
	step := g.defs["Step"].(map[string]any)
	step["allOf"] = faultParamRules()
	step["minProperties"] = 1
	root["$defs"] = g.defs
	b, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		panic("drill: marshal schema: " + err.Error()) // the values are plain maps
	}
	return append(b, '\n')
}

type schemaGen struct{ defs map[string]any }

var (
	durationType = reflect.TypeFor[bulwark.Duration]()
	percentType  = reflect.TypeFor[bulwark.Percent]()
	selectorType = reflect.TypeFor[bulwark.Selector]()
	fromType     = reflect.TypeFor[From]()
)

func (g *schemaGen) ref(t reflect.Type) string {
	name := t.Name()
	if _, ok := g.defs[name]; !ok {
		g.defs[name] = nil // placeholder: breaks recursion (Step holds Steps)
		g.defs[name] = g.object(t)
	}
	return "#/$defs/" + name
}

func (g *schemaGen) typ(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t {
	case durationType:
		return map[string]any{"type": "string", "pattern": durationPattern, "description": "Go duration: 300ms, 30s, 5m, 1h30m"}
	case percentType:
		return map[string]any{"type": []string{"number", "string"}, "description": "0 to 100; a trailing % is allowed"}
	case selectorType:
		return map[string]any{"$ref": g.selector()}
	case fromType:
		return map[string]any{"oneOf": []any{map[string]any{"const": "local"}, map[string]any{"$ref": g.selector()}}}
	}
	switch t.Kind() {
	case reflect.Struct:
		return map[string]any{"$ref": g.ref(t)}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.typ(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": scalarOrList()}
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64:
		return map[string]any{"type": "integer"}
	case reflect.Float64:
		return map[string]any{"type": "number"}
	}
	return map[string]any{}
}

func scalarOrList() map[string]any {
	scalar := []string{"string", "number", "boolean"}
	return map[string]any{"anyOf": []any{
		map[string]any{"type": scalar},
		map[string]any{"type": "array", "items": map[string]any{"type": scalar}},
	}}
}

func (g *schemaGen) selector() string {
	if _, ok := g.defs["Selector"]; !ok {
		g.defs["Selector"] = map[string]any{
			"type": "object", "additionalProperties": false, "required": []string{"labels"},
			"description": "hosts chosen by their labels (contract 1)",
			"properties": map[string]any{
				"labels": map[string]any{"type": "object", "minProperties": 1, "additionalProperties": map[string]any{"type": "string"}},
				"mode":   map[string]any{"type": "string", "pattern": `^(all|count:[1-9][0-9]*|percent:[0-9]+(\.[0-9]+)?)$`, "description": "all (default), count:N or percent:P"},
			},
		}
	}
	return "#/$defs/Selector"
}

// object describes a struct from its yaml names and check tags.
func (g *schemaGen) object(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	for i := range t.NumField() {
		f := t.Field(i)
		name := yamldoc.FieldName(f)
		if name == "" {
			continue
		}
		s := g.typ(f.Type)
		if doc := f.Tag.Get("doc"); doc != "" {
			s["description"] = doc
		}
		if e := f.Tag.Get("enum"); e != "" {
			s["enum"] = strings.Split(e, ",")
		}
		if p := f.Tag.Get("pattern"); p != "" {
			s["pattern"] = p
		}
		for _, b := range []struct{ tag, key string }{{"min", "minimum"}, {"max", "maximum"}} {
			if n, err := strconv.ParseFloat(f.Tag.Get(b.tag), 64); err == nil {
				s[b.key] = n
			}
		}
		if f.Tag.Get("req") == "true" {
			required = append(required, name)
		}
		props[name] = s
	}
	out := map[string]any{"type": "object", "additionalProperties": false, "properties": props}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

// faultParamRules gives each registered kind's params their own schema.
func faultParamRules() []any {
	var rules []any
	for _, k := range fault.Kinds("") {
		info := k.Info()
		schema, err := fault.SchemaOf(info.NewParams())
		if err != nil {
			continue
		}
		props := map[string]any{}
		for _, p := range schema {
			props[p.Name] = ParamSchema(p)
		}
		rules = append(rules, map[string]any{
			"if":   map[string]any{"required": []string{"fault"}, "properties": map[string]any{"fault": map[string]any{"const": info.ID}}},
			"then": map[string]any{"properties": map[string]any{"params": map[string]any{"type": "object", "additionalProperties": false, "properties": props}}},
		})
	}
	return rules
}

// ParamSchema is the JSON Schema of one fault parameter, shared by the drill
// file schema and the server's OpenAPI document.
func ParamSchema(p fault.Param) map[string]any {
	s := map[string]any{"description": p.Help}
	switch p.Type {
	case "int":
		s["type"] = "integer"
	case "number":
		s["type"] = "number"
	case "bool":
		s["type"] = "boolean"
	case "string":
		s["type"] = "string"
	default:
		if strings.HasPrefix(p.Type, "list of") {
			s["type"] = []string{"string", "array"}
		} else {
			s["type"] = []string{"string", "number"}
		}
	}
	if len(p.Enum) > 0 {
		s["enum"] = p.Enum
	}
	if p.Min != nil {
		s["minimum"] = *p.Min
	}
	if p.Max != nil {
		s["maximum"] = *p.Max
	}
	return s
}
