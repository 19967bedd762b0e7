package inventory_test

import (
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/inventory"
)

const good = `apiVersion: bulwark/v1
kind: Inventory
environments:
  - { name: production, productionClass: true }
  - { name: simulation }
systems:
  - { name: order-gateway, ownerTeam: sre-trading, tier: 1, title: 报单网关 }
units:
  - { name: og-api, system: order-gateway }
hosts:
  - { hostname: og-api-01, system: order-gateway, unit: og-api, environment: production, zone: sh-a, role: primary }
`

func TestParseGood(t *testing.T) {
	inv, err := inventory.Parse("cmdb.yaml", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Hosts) != 1 || inv.Hosts[0].Zone != "sh-a" || !inv.Environments[0].ProductionClass || inv.Systems[0].Title != "报单网关" {
		t.Fatalf("parsed %+v", inv)
	}
}

func TestParseBad(t *testing.T) {
	for _, tc := range []struct{ name, edit, want string }{
		{"unknown field", "zone: sh-a", "zonee: sh-a"},
		{"tier", "tier: 1", "tier: 9"},
		{"reserved label", "role: primary }", "role: primary, labels: { env: x } }"},
		{"role", "role: primary", "role: leader"},
		{"name", "name: og-api,", "name: OG API,"},
		{"kind", "kind: Inventory", "kind: Drill"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := strings.Replace(good, tc.edit, tc.want, 1)
			if src == good {
				t.Fatalf("edit %q did not apply", tc.edit)
			}
			_, err := inventory.Parse("cmdb.yaml", []byte(src))
			if bulwark.ErrorCode(err) != bulwark.EINVALID || !strings.HasPrefix(bulwark.ErrorMessage(err), "cmdb.yaml:") {
				t.Fatalf("got %v, want EINVALID naming the file", err)
			}
			t.Log(err)
		})
	}
	_, err := inventory.Parse("cmdb.yaml", []byte(strings.Replace(good, "zone: sh-a", "zonee: sh-a", 1)))
	if !strings.Contains(err.Error(), "cmdb.yaml:11:") {
		t.Fatalf("unknown field error does not name line 11: %v", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	f.Fuzz(func(t *testing.T, data []byte) {
		inv, err := inventory.Parse("f.yaml", data)
		if err == nil && inventory.Validate(inv) != nil {
			t.Fatal("Parse accepted what Validate refuses")
		}
	})
}
