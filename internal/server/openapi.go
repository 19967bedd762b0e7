package server

import (
	"encoding/json"
	"net/http"
	"sync"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/drill"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

var (
	openAPIOnce sync.Once
	openAPIDoc  []byte
)

func (s *Server) handleOpenAPI(w http.ResponseWriter, _ *http.Request) {
	openAPIOnce.Do(func() { openAPIDoc = OpenAPI() })
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(openAPIDoc)
}

// OpenAPI returns the OpenAPI 3.1 document of /api/v1. Fault parameters
// come from the registered kinds' parameter schemas, so the document cannot
// drift from what the server accepts.
func OpenAPI() []byte {
	doc := map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Bulwark API", "version": bulwark.Version,
			"description": "Chaos engineering control plane. Every request needs a bearer token or a session cookie; errors are {\"error\":{\"code\",\"message\"}}."},
		"servers":    []any{map[string]any{"url": "/"}},
		"security":   []any{map[string]any{"bearer": []string{}}},
		"paths":      openAPIPaths(),
		"components": map[string]any{"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer"}}, "schemas": openAPISchemas()},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic("server: marshal OpenAPI: " + err.Error()) // plain maps
	}
	return b
}

func op(summary string, body string, responses map[string]string) map[string]any {
	o := map[string]any{"summary": summary}
	if body != "" {
		o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": ref(body)}}}
	}
	rs := map[string]any{"default": map[string]any{"description": "error", "content": map[string]any{"application/json": map[string]any{"schema": ref("Error")}}}}
	for code, schema := range responses {
		r := map[string]any{"description": code}
		if schema != "" {
			r["content"] = map[string]any{"application/json": map[string]any{"schema": ref(schema)}}
		}
		rs[code] = r
	}
	o["responses"] = rs
	return o
}

func ref(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }

func openAPIPaths() map[string]any {
	return map[string]any{
		"/api/v1/faults": map[string]any{"post": op("Inject a fault on the selected agents (policy gate, halts and blast radius apply)", "FaultRequest", map[string]string{"201": "FaultsCreated"})},
		"/api/v1/agents": map[string]any{"get": op("List agents", "", map[string]string{"200": ""})},
		"/api/v1/halt": map[string]any{
			"get":    op("List halts in force", "", map[string]string{"200": ""}),
			"post":   op("Halt: recover every active fault in scope and block new work", "HaltScope", map[string]string{"200": "HaltResponse"}),
			"delete": op("Resume the halt of exactly ?system=&environment=", "", map[string]string{"200": ""}),
		},
		"/api/v1/environments":        map[string]any{"get": op("List environments", "", map[string]string{"200": ""})},
		"/api/v1/environments/{name}": map[string]any{"put": op("Create or replace an environment (global admin)", "Environment", map[string]string{"200": "Environment"})},
		"/api/v1/systems":             map[string]any{"get": op("List systems", "", map[string]string{"200": ""})},
		"/api/v1/systems/{name}": map[string]any{
			"get": op("Get a system", "", map[string]string{"200": "System"}),
			"put": op("Create or replace a system", "System", map[string]string{"200": "System"}),
		},
		"/api/v1/units/{name}":     map[string]any{"put": op("Create or replace a deployment unit", "Unit", map[string]string{"200": "Unit"})},
		"/api/v1/hosts":            map[string]any{"get": op("List hosts (?system=&unit=&environment=)", "", map[string]string{"200": ""})},
		"/api/v1/hosts/{hostname}": map[string]any{"put": op("Create or replace a host", "Host", map[string]string{"200": "Host"}), "delete": op("Delete a host", "", map[string]string{"204": ""})},
		"/api/v1/inventory/import": map[string]any{"post": map[string]any{"summary": "Import a YAML inventory (kind: Inventory) in one transaction (global admin)", "requestBody": map[string]any{"content": map[string]any{"application/yaml": map[string]any{"schema": map[string]any{"type": "string"}}}}, "responses": map[string]any{"200": map[string]any{"description": "counts"}}}},
		"/api/v1/tokens":           map[string]any{"post": op("Create an automation account owned by the caller and its token", "", map[string]string{"201": ""}), "get": op("List tokens", "", map[string]string{"200": ""})},
		"/api/v1/audit/verify":     map[string]any{"get": op("Verify the audit log's hash chain and checkpoints", "", map[string]string{"200": "", "409": ""})},
		"/api/v1/runs": map[string]any{"post": map[string]any{"summary": "Submit a drill file (YAML; ?name= names it in messages): planned against the agents, then the policy gate: 201 started, 202 awaiting approval, 403 refused",
			"requestBody": map[string]any{"content": map[string]any{"application/yaml": map[string]any{"schema": map[string]any{"type": "string"}}}},
			"responses":   map[string]any{"201": map[string]any{"description": "started"}, "202": map[string]any{"description": "awaiting approval"}}}},
		"/api/v1/runs/{id}":         map[string]any{"get": op("A run: its submission (approval state) and the stored run (state, verdict, measures)", "", map[string]string{"200": ""})},
		"/api/v1/runs/{id}/events":  map[string]any{"get": op("The run's timeline", "", map[string]string{"200": ""})},
		"/api/v1/runs/{id}/report":  map[string]any{"get": map[string]any{"summary": "The finished run's report: ?format=json|html|md|junit&lang=zh-CN|en", "responses": map[string]any{"200": map[string]any{"description": "the report"}}}},
		"/api/v1/runs/{id}/approve": map[string]any{"post": op("Approve a waiting production-class run (a person with approver on every selected system, not the submitter); body {validFor} (default 4h; must cover the run's planned duration)", "", map[string]string{"200": "", "201": ""})},
		"/api/v1/agents/jointokens": map[string]any{
			"post": op("Create a join token scoped to an environment (and zone); the secret is shown once", "", map[string]string{"201": ""}),
			"get":  op("List join tokens", "", map[string]string{"200": ""}),
		},
		"/api/v1/agents/jointokens/{id}": map[string]any{"delete": op("Revoke a join token", "", map[string]string{"204": ""})},
		"/api/v1/agents/{id}":            map[string]any{"delete": op("Revoke an agent: its certificate is refused and its faults end by its lease", "", map[string]string{"204": ""})},
		"/api/v1/me":                     map[string]any{"get": op("The authenticated principal", "", map[string]string{"200": ""})},
		"/api/v1/rolebindings": map[string]any{
			"get":  op("List role bindings", "", map[string]string{"200": ""}),
			"post": op("Bind a role to a subject on a scope (admin of that scope)", "", map[string]string{"201": ""}),
		},
		"/api/v1/users":        map[string]any{"get": op("List users (admin)", "", map[string]string{"200": ""}), "post": op("Create a local user (TOTP enrolment returned once)", "", map[string]string{"201": ""})},
		"/api/v1/openapi.json": map[string]any{"get": map[string]any{"summary": "This document", "security": []any{}, "responses": map[string]any{"200": map[string]any{"description": "OpenAPI 3.1"}}}},
	}
}

func openAPISchemas() map[string]any {
	str := map[string]any{"type": "string"}
	obj := func(props map[string]any, required ...string) map[string]any {
		o := map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		if len(required) > 0 {
			o["required"] = required
		}
		return o
	}
	return map[string]any{
		"Error": obj(map[string]any{"error": obj(map[string]any{"code": map[string]any{"type": "string",
			"enum": []string{bulwark.EINVALID, bulwark.EUNAUTHORIZED, bulwark.EFORBIDDEN, bulwark.ENOTFOUND, bulwark.ECONFLICT, bulwark.EUNAVAILABLE, bulwark.EINTERNAL}}, "message": str})}),
		"Selector": obj(map[string]any{"labels": map[string]any{"type": "object", "additionalProperties": str, "minProperties": 1},
			"mode": map[string]any{"type": "string", "pattern": `^(all|count:[1-9][0-9]*|percent:[0-9]+(\.[0-9]+)?)$`}}, "labels"),
		"FaultRequest": map[string]any{"allOf": []any{obj(map[string]any{
			"kind": map[string]any{"type": "string", "enum": fault.IDs("")}, "params": map[string]any{"type": "object"},
			"target": map[string]any{"type": "object"}, "duration": str, "select": ref("Selector"),
			"change": obj(map[string]any{"ticket": str})}, "kind", "duration", "select")}, "oneOf": kindParamSchemas()},
		"FaultsCreated": obj(map[string]any{"faults": map[string]any{"type": "array", "items": obj(map[string]any{
			"id": str, "agent": str, "hostname": str, "kind": str, "state": str, "expiresAt": str, "error": str})}}),
		"HaltScope":    obj(map[string]any{"system": str, "environment": str}),
		"HaltResponse": obj(map[string]any{"halt": map[string]any{"type": "object"}, "recovered": map[string]any{"type": "array"}, "notAnswered": map[string]any{"type": "array", "items": str}, "agents": map[string]any{"type": "integer"}}),
		"Environment":  obj(map[string]any{"name": str, "productionClass": map[string]any{"type": "boolean"}, "description": str}, "name"),
		"System":       obj(map[string]any{"name": str, "ownerTeam": str, "tier": map[string]any{"type": "integer", "minimum": 1, "maximum": 4}, "title": str}, "name", "ownerTeam", "tier"),
		"Unit":         obj(map[string]any{"name": str, "system": str}, "name", "system"),
		"Host": obj(map[string]any{"id": str, "hostname": str, "system": str, "unit": str, "environment": str, "zone": str,
			"role": map[string]any{"type": "string", "enum": []string{"", "primary", "standby"}}, "labels": map[string]any{"type": "object", "additionalProperties": str}},
			"hostname", "system", "unit", "environment"),
	}
}

// kindParamSchemas gives one alternative per registered kind: its id and
// its parameters (params and target together, as the kind's schema has
// them).
func kindParamSchemas() []any {
	var out []any
	for _, k := range fault.Kinds("") {
		info := k.Info()
		schema, err := fault.SchemaOf(info.NewParams())
		if err != nil {
			continue
		}
		props := map[string]any{}
		for _, p := range schema {
			props[p.Name] = drill.ParamSchema(p)
		}
		out = append(out, map[string]any{"properties": map[string]any{
			"kind":   map[string]any{"const": info.ID},
			"params": map[string]any{"type": "object", "properties": props},
		}})
	}
	return out
}
