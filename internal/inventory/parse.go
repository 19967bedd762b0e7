package inventory

import (
	"fmt"
	"regexp"
	"strings"
	"sync"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/yamldoc"
)

// APIVersion and Kind are the only values an inventory document may carry.
const (
	APIVersion = "bulwark/v1"
	Kind       = "Inventory"
)

var namePattern = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`) })

// report records one problem at a field path ("hosts[3].role").
type report func(path, format string, args ...any)

// Parse decodes an inventory document strictly (unknown fields are errors)
// and validates it, reporting every problem at once. name is the file name
// used in messages. The error is an *bulwark.Error with code EINVALID whose
// message has one "file:line:col: field: problem" line per problem.
func Parse(name string, data []byte) (*bulwark.Inventory, error) {
	var inv bulwark.Inventory
	doc := yamldoc.Decode(name, data, &inv, yamldoc.Noun("inventory"))
	if doc.Decoded() {
		check(&inv, func(path, format string, args ...any) {
			if !doc.Bad(path) {
				doc.Errorf(path, format, args...)
			}
		})
	}
	if err := doc.Err(); err != nil {
		return nil, bulwark.Errorf(bulwark.EINVALID, "%v", err)
	}
	return &inv, nil
}

// Validate checks an inventory built in code or decoded from JSON (the
// API), with the same rules as Parse; its message names each field.
func Validate(inv *bulwark.Inventory) error {
	var errs []string
	check(inv, func(path, format string, args ...any) {
		errs = append(errs, path+": "+fmt.Sprintf(format, args...))
	})
	if len(errs) > 0 {
		return bulwark.Errorf(bulwark.EINVALID, "%s", strings.Join(errs, "; "))
	}
	return nil
}

// check applies the rules: names, tiers, roles, reserved labels, and that
// names and hostnames are unique. References to entries already in a store
// are checked by the store on import.
func check(inv *bulwark.Inventory, bad report) {
	if inv.APIVersion != APIVersion {
		bad("apiVersion", "must be %s, not %q", APIVersion, inv.APIVersion)
	}
	if inv.Kind != Kind {
		bad("kind", "must be %s, not %q", Kind, inv.Kind)
	}
	seen := map[string]bool{}
	for i, e := range inv.Environments {
		checkName(bad, yamldoc.Elem("environments", i)+".name", e.Name, seen, "environment")
	}
	for i, s := range inv.Systems {
		checkSystem(bad, i, s, seen)
	}
	for i, u := range inv.Units {
		checkName(bad, yamldoc.Elem("units", i)+".name", u.Name, seen, "unit")
		if u.System == "" {
			bad(yamldoc.Elem("units", i)+".system", "is required")
		}
	}
	hostnames := map[string]bool{}
	for i, h := range inv.Hosts {
		checkHost(bad, i, h, hostnames)
	}
}

func checkSystem(bad report, i int, s bulwark.System, seen map[string]bool) {
	p := yamldoc.Elem("systems", i)
	checkName(bad, p+".name", s.Name, seen, "system")
	if s.OwnerTeam == "" {
		bad(p+".ownerTeam", "is required")
	}
	if s.Tier < 1 || s.Tier > 4 {
		bad(p+".tier", "%d is not a tier (1 most critical … 4)", s.Tier)
	}
}

func checkHost(bad report, i int, h bulwark.InventoryHost, hostnames map[string]bool) {
	p := yamldoc.Elem("hosts", i)
	switch {
	case h.Hostname == "":
		bad(p+".hostname", "is required")
	case hostnames[strings.ToLower(h.Hostname)]:
		bad(p+".hostname", "%q appears twice", h.Hostname)
	default:
		hostnames[strings.ToLower(h.Hostname)] = true
	}
	for _, f := range []struct{ name, value string }{{"system", h.System}, {"unit", h.Unit}, {"environment", h.Environment}} {
		if f.value == "" {
			bad(p+"."+f.name, "is required")
		}
	}
	if h.Role != "" && h.Role != "primary" && h.Role != "standby" {
		bad(p+".role", "%q is not primary or standby", h.Role)
	}
	for k := range h.Labels {
		if bulwark.ReservedLabel(k) {
			bad(p+".labels."+k, "%q is reserved; use the host's own field", k)
		}
	}
}

func checkName(bad report, path, name string, seen map[string]bool, what string) {
	switch key := what + "/" + name; {
	case !namePattern().MatchString(name):
		bad(path, "%q is not a valid name (lower case letters, digits, '.', '_' and '-')", name)
	case seen[key]:
		bad(path, "%s %q appears twice", what, name)
	default:
		seen[key] = true
	}
}
