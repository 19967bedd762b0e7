// Package inventory reads and checks inventory documents (`kind: Inventory`:
// environments, systems with owner team and tier, deployment units and
// hosts), the shape a CMDB export is converted to before import. Storage is
// behind bulwark.InventoryService (SQLite in internal/store/sqlite).
//
// Example:
//
//	apiVersion: bulwark/v1
//	kind: Inventory
//	environments:
//	  - { name: production, productionClass: true }
//	  - { name: simulation }
//	systems:
//	  - { name: order-gateway, ownerTeam: sre-trading, tier: 1 }
//	units:
//	  - { name: og-api, system: order-gateway }
//	hosts:
//	  - { hostname: og-api-01, system: order-gateway, unit: og-api, environment: production, zone: sh-a, role: primary }
package inventory
