package server

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/agentgw"
	"github.com/bulwarkhq/bulwark/internal/pki"
	"github.com/bulwarkhq/bulwark/internal/policy"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
)

// openGateway starts the agent gateway: the CA in <data-dir>/ca, agents
// and join tokens in the database, server-owned labels from the inventory,
// and the bootstrap join token into simulation (BULWARK_AGENT_TOKEN).
func openGateway(ctx context.Context, app *App, cfg AppConfig) (*agentgw.Gateway, net.Listener, error) {
	ca, err := pki.LoadOrCreate(filepath.Join(cfg.DataDir, "ca"))
	if err != nil {
		return nil, nil, fmt.Errorf("agents' CA: %w", err)
	}
	host, _, err := net.SplitHostPort(cfg.AgentListen)
	if err != nil {
		return nil, nil, bulwark.Errorf(bulwark.EINVALID, "--agent-listen: %q is not HOST:PORT", cfg.AgentListen)
	}
	app.CAPin = ca.Fingerprint()
	names := append([]string{}, cfg.AgentServerNames...)
	if host != "" && host != "0.0.0.0" && host != "::" {
		names = append(names, host)
	}
	g, err := agentgw.New(ctx, agentgw.Config{Store: sqlite.NewAgentStore(app.DB), CA: ca, ServerNames: names,
		Inventory: inventoryLabels{app.Inventory}, Docs: envDocs{inv: app.Inventory, gate: app.Gate},
		Lease: cfg.AgentLease, Logger: cfg.Logger})
	if err != nil {
		return nil, nil, err
	}
	if cfg.AgentToken != "" {
		if _, err := g.BootstrapJoinToken(ctx, cfg.AgentToken, 0); err != nil {
			g.Close()
			return nil, nil, err
		}
	}
	lis, err := net.Listen("tcp", cfg.AgentListen)
	if err != nil {
		g.Close()
		return nil, nil, bulwark.Errorf(bulwark.EUNAVAILABLE, "--agent-listen %s: %v", cfg.AgentListen, err)
	}
	go func() {
		if err := g.Serve(lis); err != nil {
			cfg.Logger.Error("agent gateway stopped", "err", err)
		}
	}()
	stop := make(chan struct{})
	go reapLapsed(g, cfg.AgentLease, cfg.Logger.Info, stop)
	app.closers = append(app.closers, func() error { close(stop); return nil })
	return g, lis, nil
}

// inventoryLabels adapts the inventory to agentgw.Inventory: a host's
// server-owned labels are its reserved ones plus the inventory's own.
type inventoryLabels struct{ inv bulwark.InventoryService }

func (i inventoryLabels) HostLabels(ctx context.Context, hostname string) (map[string]string, bulwark.Environment, error) {
	h, err := i.inv.FindHostByName(ctx, hostname)
	if err != nil {
		return nil, bulwark.Environment{}, err
	}
	env, err := i.inv.FindEnvironment(ctx, h.Environment)
	if err != nil {
		return nil, bulwark.Environment{}, err
	}
	labels := h.ReservedLabels()
	for k, v := range h.Labels {
		labels[k] = v
	}
	return labels, env, nil
}

// closeGateway stops the gateway, giving it a moment to flush.
func closeGateway(g *agentgw.Gateway) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(g.Flush(ctx), g.Close())
}

// reapLapsed keeps the server's view in step with the agents' lease rule:
// an agent that has not been heard from for longer than the lease has
// recovered the server's faults on its own, so its desired set is emptied
// (a new epoch). When it comes back, it gets the empty set and stays clean
// instead of re-injecting faults whose lease lapsed. It runs until stop.
func reapLapsed(g *agentgw.Gateway, lease time.Duration, log func(msg string, args ...any), stop <-chan struct{}) {
	if lease <= 0 {
		lease = 30 * time.Second
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		now := time.Now()
		for _, a := range g.Agents(agentgw.AgentFilter{}) {
			if len(a.Desired) == 0 || a.Status == agentgw.StatusConnected || now.Sub(a.LastSeen) <= lease {
				continue
			}
			if _, err := g.SetDesired(context.Background(), a.ID, nil); err != nil {
				log("drop the faults of an agent whose lease lapsed", "agent", a.ID, "err", err)
				continue
			}
			log("agent silent for longer than the lease: its faults are recovered by the agent; desired set emptied",
				"agent", a.ID, "hostname", a.Hostname, "status", a.Status, "lastSeen", a.LastSeen)
		}
	}
}

// envDocs gives the agents of an environment the policy and calendar
// documents in force for it, so that each agent refuses on its own what the
// server's gate would refuse (defence in depth, DESIGN §4.1).
type envDocs struct {
	inv  bulwark.InventoryService
	gate *policy.Gate
}

func (d envDocs) EnvironmentDocs(ctx context.Context, env string) (pol, cal []byte, err error) {
	e, err := d.inv.FindEnvironment(ctx, env)
	if err != nil {
		return nil, nil, err
	}
	p := d.gate.Policies.For(e)
	name := p.File.Spec.Calendar.Name
	if name == "" {
		name = d.gate.DefaultCalendar
	}
	if c := d.gate.Calendars[name]; c != nil {
		cal = c.Source()
	}
	return p.Source(), cal, nil
}
