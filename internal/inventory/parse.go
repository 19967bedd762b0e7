package inventory

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"

	"github.com/bulwarkhq/bulwark"
)

// APIVersion and Kind are the only values an inventory document may carry.
const (
	APIVersion = "bulwark/v1"
	Kind       = "Inventory"
)

var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// Parse decodes an inventory document strictly (unknown fields are errors)
// and validates it. name is the file name used in messages. Every error is
// an *bulwark.Error with code EINVALID whose message starts with name and,
// where known, the line and column.
func Parse(name string, data []byte) (*bulwark.Inventory, error) {
	var inv bulwark.Inventory
	dec := yaml.NewDecoder(bytes.NewReader(data), yaml.DisallowUnknownField(), yaml.Strict())
	if err := dec.Decode(&inv); err != nil {
		return nil, bulwark.Errorf(bulwark.EINVALID, "%s: %s", name, yamlMessage(err))
	}
	if err := Validate(&inv); err != nil {
		return nil, bulwark.Errorf(bulwark.EINVALID, "%s: %s", name, bulwark.ErrorMessage(err))
	}
	return &inv, nil
}

// yamlMessage flattens a go-yaml error ("[3:5] unknown field ...") to one
// line: "3:5: unknown field ...".
func yamlMessage(err error) string {
	var se yaml.Error
	if errors.As(err, &se) {
		if tok := se.GetToken(); tok != nil && tok.Position != nil {
			return fmt.Sprintf("%d:%d: %s", tok.Position.Line, tok.Position.Column, se.GetMessage())
		}
	}
	msg := err.Error()
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	return msg
}

// Validate checks names, tiers and that every reference inside inv resolves
// either within inv. References to entries already in a store are checked by
// the store on import.
func Validate(inv *bulwark.Inventory) error {
	if inv.APIVersion != APIVersion {
		return bulwark.Errorf(bulwark.EINVALID, "apiVersion: want %q, got %q", APIVersion, inv.APIVersion)
	}
	if inv.Kind != Kind {
		return bulwark.Errorf(bulwark.EINVALID, "kind: want %q, got %q", Kind, inv.Kind)
	}
	var errs []string
	add := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	seen := map[string]bool{}
	for i, e := range inv.Environments {
		checkName(add, fmt.Sprintf("environments[%d].name", i), e.Name, seen, "environment")
	}
	for i, s := range inv.Systems {
		checkSystem(add, i, s, seen)
	}
	for i, u := range inv.Units {
		checkName(add, fmt.Sprintf("units[%d].name", i), u.Name, seen, "unit")
		if u.System == "" {
			add("units[%d].system: required", i)
		}
	}
	hostnames := map[string]bool{}
	for i, h := range inv.Hosts {
		checkHost(add, i, h, hostnames)
	}
	if len(errs) > 0 {
		return bulwark.Errorf(bulwark.EINVALID, "%s", strings.Join(errs, "; "))
	}
	return nil
}

func checkSystem(add func(string, ...any), i int, s bulwark.System, seen map[string]bool) {
	checkName(add, fmt.Sprintf("systems[%d].name", i), s.Name, seen, "system")
	if s.OwnerTeam == "" {
		add("systems[%d].ownerTeam: required", i)
	}
	if s.Tier < 1 || s.Tier > 4 {
		add("systems[%d].tier: %d is not a tier (1 most critical … 4)", i, s.Tier)
	}
}

func checkHost(add func(string, ...any), i int, h bulwark.InventoryHost, hostnames map[string]bool) {
	field := func(f string) string { return fmt.Sprintf("hosts[%d].%s", i, f) }
	switch {
	case h.Hostname == "":
		add("%s: required", field("hostname"))
	case hostnames[strings.ToLower(h.Hostname)]:
		add("%s: %q appears twice", field("hostname"), h.Hostname)
	default:
		hostnames[strings.ToLower(h.Hostname)] = true
	}
	for f, v := range map[string]string{"system": h.System, "unit": h.Unit, "environment": h.Environment} {
		if v == "" {
			add("%s: required", field(f))
		}
	}
	if h.Role != "" && h.Role != "primary" && h.Role != "standby" {
		add("%s: %q is not primary or standby", field("role"), h.Role)
	}
	for k := range h.Labels {
		if bulwark.ReservedLabel(k) {
			add("%s: %q is reserved; use the host's own field", field("labels"), k)
		}
	}
}

func checkName(add func(string, ...any), field, name string, seen map[string]bool, what string) {
	switch key := what + "/" + name; {
	case !namePattern.MatchString(name):
		add("%s: %q is not a valid name (lower case letters, digits, '.', '_' and '-')", field, name)
	case seen[key]:
		add("%s: %s %q appears twice", field, what, name)
	default:
		seen[key] = true
	}
}
