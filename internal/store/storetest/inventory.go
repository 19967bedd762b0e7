package storetest

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bulwarkhq/bulwark"
)

// NewInventory returns an empty inventory service for one test.
type NewInventory func(t *testing.T) bulwark.InventoryService

// InventoryRun runs the inventory contract suite against services made by
// newInv. Each subtest gets a fresh, empty service.
func InventoryRun(t *testing.T, newInv NewInventory) {
	t.Helper()
	t.Run("PutAndFind", func(t *testing.T) { testInventoryPutFind(t, newInv(t)) })
	t.Run("References", func(t *testing.T) { testInventoryReferences(t, newInv(t)) })
	t.Run("ImportAllOrNothing", func(t *testing.T) { testInventoryImport(t, newInv(t)) })
	t.Run("HostnameUnique", func(t *testing.T) { testInventoryHostname(t, newInv(t)) })
}

// SampleInventory is a small valid inventory: production (production-class)
// and simulation, two systems, two units and three hosts.
func SampleInventory() *bulwark.Inventory {
	return &bulwark.Inventory{
		APIVersion: "bulwark/v1", Kind: "Inventory",
		Environments: []bulwark.Environment{{Name: "production", ProductionClass: true}, {Name: "simulation"}},
		Systems: []bulwark.System{
			{Name: "order-gateway", OwnerTeam: "sre-trading", Tier: 1, Title: "报单网关"},
			{Name: "quotes", OwnerTeam: "market-data", Tier: 2},
		},
		Units: []bulwark.Unit{{Name: "og-api", System: "order-gateway"}, {Name: "q-feed", System: "quotes"}},
		Hosts: []bulwark.InventoryHost{
			{Hostname: "og-api-01", System: "order-gateway", Unit: "og-api", Environment: "production", Zone: "sh-a", Role: "primary"},
			{Hostname: "og-api-02", System: "order-gateway", Unit: "og-api", Environment: "production", Zone: "sh-b", Role: "standby"},
			{Hostname: "q-feed-sim-01", System: "quotes", Unit: "q-feed", Environment: "simulation", Labels: map[string]string{"rack": "r1"}},
		},
	}
}

func testInventoryPutFind(t *testing.T, s bulwark.InventoryService) {
	ctx := context.Background()
	inv := SampleInventory()
	res, err := s.Import(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	if res != (bulwark.ImportResult{Environments: 2, Systems: 2, Units: 2, Hosts: 3}) {
		t.Fatalf("import result %+v", res)
	}
	env, err := s.FindEnvironment(ctx, "production")
	if err != nil || !env.ProductionClass {
		t.Fatalf("production: %+v, %v", env, err)
	}
	sys, err := s.FindSystem(ctx, "order-gateway")
	if err != nil || sys.Title != "报单网关" || sys.Tier != 1 {
		t.Fatalf("system: %+v, %v", sys, err)
	}
	hosts, err := s.Hosts(ctx, bulwark.HostFilter{System: "order-gateway"})
	if err != nil || len(hosts) != 2 || hosts[0].Hostname != "og-api-01" || hosts[0].ID == "" {
		t.Fatalf("hosts: %+v, %v", hosts, err)
	}
	h, err := s.FindHostByName(ctx, "Q-FEED-SIM-01")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"rack": "r1"}, h.Labels); diff != "" {
		t.Fatalf("labels (-want +got):\n%s", diff)
	}
	again, err := s.FindHost(ctx, h.ID)
	if err != nil || again.Hostname != h.Hostname {
		t.Fatalf("FindHost: %+v, %v", again, err)
	}
	// Re-importing the same document updates in place: no duplicate hosts.
	inv.Systems[1].Tier = 3
	if _, err := s.Import(ctx, inv); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.Hosts(ctx, bulwark.HostFilter{}); len(all) != 3 {
		t.Fatalf("after re-import: %d hosts, want 3", len(all))
	}
	if q, _ := s.FindSystem(ctx, "quotes"); q.Tier != 3 {
		t.Fatalf("tier not updated: %+v", q)
	}
	if err := s.DeleteHost(ctx, h.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindHost(ctx, h.ID); bulwark.ErrorCode(err) != bulwark.ENOTFOUND {
		t.Fatalf("deleted host: %v, want ENOTFOUND", err)
	}
	if _, err := s.FindSystem(ctx, "nope"); bulwark.ErrorCode(err) != bulwark.ENOTFOUND {
		t.Fatalf("missing system: %v, want ENOTFOUND", err)
	}
}

func testInventoryReferences(t *testing.T, s bulwark.InventoryService) {
	ctx := context.Background()
	if err := s.PutUnit(ctx, bulwark.Unit{Name: "u", System: "ghost"}); bulwark.ErrorCode(err) != bulwark.EINVALID {
		t.Fatalf("unit of a missing system: %v, want EINVALID", err)
	}
	if _, err := s.Import(ctx, SampleInventory()); err != nil {
		t.Fatal(err)
	}
	_, err := s.PutHost(ctx, bulwark.InventoryHost{Hostname: "x", System: "quotes", Unit: "og-api", Environment: "simulation"})
	if bulwark.ErrorCode(err) != bulwark.EINVALID {
		t.Fatalf("unit of another system: %v, want EINVALID", err)
	}
	_, err = s.PutHost(ctx, bulwark.InventoryHost{Hostname: "x", System: "quotes", Unit: "q-feed", Environment: "staging"})
	if bulwark.ErrorCode(err) != bulwark.EINVALID {
		t.Fatalf("missing environment: %v, want EINVALID", err)
	}
	_, err = s.PutHost(ctx, bulwark.InventoryHost{Hostname: "x", System: "quotes", Unit: "q-feed", Environment: "simulation",
		Labels: map[string]string{"env": "production"}})
	if bulwark.ErrorCode(err) != bulwark.EINVALID {
		t.Fatalf("reserved label: %v, want EINVALID", err)
	}
}

func testInventoryImport(t *testing.T, s bulwark.InventoryService) {
	ctx := context.Background()
	inv := SampleInventory()
	inv.Hosts = append(inv.Hosts, bulwark.InventoryHost{Hostname: "bad", System: "quotes", Unit: "q-feed", Environment: "nowhere"})
	if _, err := s.Import(ctx, inv); bulwark.ErrorCode(err) != bulwark.EINVALID {
		t.Fatalf("import with a bad host: %v, want EINVALID", err)
	}
	if envs, _ := s.Environments(ctx); len(envs) != 0 {
		t.Fatalf("a failed import left %d environments behind", len(envs))
	}
	if hosts, _ := s.Hosts(ctx, bulwark.HostFilter{}); len(hosts) != 0 {
		t.Fatalf("a failed import left %d hosts behind", len(hosts))
	}
}

func testInventoryHostname(t *testing.T, s bulwark.InventoryService) {
	ctx := context.Background()
	if _, err := s.Import(ctx, SampleInventory()); err != nil {
		t.Fatal(err)
	}
	_, err := s.PutHost(ctx, bulwark.InventoryHost{ID: bulwark.NewID(), Hostname: "OG-API-01", System: "quotes", Unit: "q-feed", Environment: "simulation"})
	if bulwark.ErrorCode(err) != bulwark.ECONFLICT {
		t.Fatalf("a second host with the same hostname: %v, want ECONFLICT", err)
	}
}
