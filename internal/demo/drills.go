package demo

import (
	"fmt"
	"strings"
)

// A drill of the programme: a title for people and the steps of a drill
// file; the steady state and the rest are shared.
type drillDef struct {
	name, title, risk string
	// steps is the YAML of spec.steps, with {{quotes}} for the quote
	// service and {{store}} for the store as the order API dials them.
	steps string
	// kind is the fault kind, checked for availability before the drill.
	kind string
}

var programme = []drillDef{
	{"quotes-slow", "卡 slow: quotes answer 300 ms late", "defect/timeout-retry", `
    - name: quotes slow (卡)
      fault: dep.slow
      target: {address: "{{quotes}}"}
      params: {delay: 300ms}
      duration: 4s`, "dep.slow"},
	{"quotes-hang", "吊 hang: quotes accept and never answer", "defect/dependency-hang", `
    - name: quotes hang (吊)
      fault: dep.hang
      target: {address: "{{quotes}}"}
      duration: 4s`, "dep.hang"},
	{"quotes-down", "死 dead: quotes refuse connections", "spof/middleware-node", `
    - name: quotes down (死)
      fault: dep.down
      target: {address: "{{quotes}}"}
      duration: 4s`, "dep.down"},
	{"quotes-error", "错 error: quotes answer 503", "defect/dependency-error", `
    - name: quotes error (错)
      fault: dep.error
      target: {address: "{{quotes}}"}
      params: {status: 503, percent: 100}
      duration: 4s`, "dep.error"},
	{"host-cpu", "host: 50% of one core busy", "capacity/cpu", `
    - name: cpu load 50% of one core
      fault: cpu.load
      params: {percent: 50, cores: 1}
      duration: 4s`, "cpu.load"},
}

// drillYAML renders one drill file of the programme.
func drillYAML(d drillDef, orderURL, quotes, store string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: bulwark/v1
kind: Drill
metadata:
  name: demo-%s
  system: order-gateway
  environment: simulation
  type: special
  risk: %s
  owner: sre-trading
spec:
  before: 2s
  settle: 2s
  steadyState:
    - name: order-api
      http: {url: "%s/order?sym=600000&qty=100", method: POST, timeout: 1s}
      interval: 100ms
      tolerance: {minSuccessRate: 0.95, maxP99: 150ms}
  abort:
    - when: "order-api.successRate < 0.05"
      for: 3s
  alerts: {grace: 10s}
  blastRadius: {maxHosts: 1}
  steps:`, d.name, d.risk, orderURL)
	b.WriteString(strings.NewReplacer("{{quotes}}", quotes, "{{store}}", store).Replace(d.steps))
	b.WriteString("\n")
	return []byte(b.String())
}
