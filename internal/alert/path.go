package alert

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// An expression in a Mapping is one of:
//
//	a dotted path        "event.host", "alerts.0.labels.instance" (a leading "$." is allowed)
//	a template           "{{event_date}} {{event_time}}" (each {{path}} is replaced by its text)
//	alternatives         "first_trigger_time || trigger_time" (the first that is not empty)
//
// A path that leads nowhere yields nothing, not an error.

// lookup evaluates expr against doc and returns the raw value (nil when absent).
func lookup(doc any, expr string) any {
	for _, alt := range strings.Split(expr, "||") {
		alt = strings.TrimSpace(alt)
		if alt == "" {
			continue
		}
		var v any
		if strings.Contains(alt, "{{") {
			v = template(doc, alt)
		} else {
			v = walk(doc, alt)
		}
		if text(v) != "" {
			return v
		}
	}
	return nil
}

// lookupText evaluates expr and renders the value as text.
func lookupText(doc any, expr string) string {
	if expr == "" {
		return ""
	}
	return strings.TrimSpace(text(lookup(doc, expr)))
}

// walk follows a dotted path through objects and arrays.
func walk(doc any, path string) any {
	path = strings.TrimPrefix(strings.TrimPrefix(path, "$"), ".")
	cur := doc
	for _, part := range strings.Split(path, ".") {
		switch c := cur.(type) {
		case map[string]any:
			cur = c[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(c) {
				return nil
			}
			cur = c[i]
		default:
			return nil
		}
	}
	return cur
}

// template replaces each {{path}} in t with the text at path. It returns ""
// when every placeholder is empty, so alternatives can fall through.
func template(doc any, t string) string {
	var b strings.Builder
	filled := false
	for {
		i := strings.Index(t, "{{")
		if i < 0 {
			break
		}
		j := strings.Index(t[i:], "}}")
		if j < 0 {
			break
		}
		b.WriteString(t[:i])
		v := text(walk(doc, strings.TrimSpace(t[i+2:i+j])))
		filled = filled || v != ""
		b.WriteString(v)
		t = t[i+j+2:]
	}
	if !filled {
		return ""
	}
	b.WriteString(t)
	return b.String()
}

// text renders a JSON value as text: strings as they are, numbers without
// exponent where possible, booleans as true/false, objects and arrays as JSON.
func text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	default:
		b, err := json.Marshal(x)
		if err != nil {
			return fmt.Sprint(x)
		}
		return string(b)
	}
}

// tags turns a tags value into labels. It accepts an object ({"k": "v"}), an
// array of "k=v" or "k:v" strings, an array of {"tag": k, "value": v} objects
// (Zabbix), or a string holding any of these as JSON.
func tags(v any) map[string]string {
	out := map[string]string{}
	switch x := v.(type) {
	case string:
		var inner any
		if err := json.Unmarshal([]byte(x), &inner); err == nil {
			return tags(inner)
		}
		for _, f := range strings.FieldsFunc(x, func(r rune) bool { return r == ',' || r == ' ' }) {
			addTag(out, f)
		}
	case map[string]any:
		for k, val := range x {
			out[k] = text(val)
		}
	case []any:
		for _, e := range x {
			switch t := e.(type) {
			case string:
				addTag(out, t)
			case map[string]any:
				if k := text(t["tag"]); k != "" {
					out[k] = text(t["value"])
				}
			}
		}
	}
	return out
}

// addTag adds a "k=v" or "k:v" tag to labels.
func addTag(labels map[string]string, t string) {
	k, v, ok := strings.Cut(t, "=")
	if !ok {
		k, v, ok = strings.Cut(t, ":")
	}
	if k = strings.TrimSpace(k); ok && k != "" {
		labels[k] = strings.TrimSpace(v)
	}
}
