// Command agentscale measures the agent gateway with simulated agents over
// loopback: every agent enrols with a real join token and holds its own
// mTLS gRPC stream (internal/agentgw/agentsim), in a child process so that
// the server's memory is measured on its own. It reports the server's
// memory per connected agent, a fault fanned out to 1,000 agents until all
// report it active, a halt across all of them, and the reconnect storm
// after a server restart.
//
//	go run ./bench/agentscale -n 2000 -fanout 1000
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	var o options
	flag.IntVar(&o.n, "n", 1000, "simulated agents")
	flag.IntVar(&o.fanout, "fanout", 1000, "agents a fault is fanned out to")
	flag.DurationVar(&o.heartbeat, "heartbeat", 10*time.Second, "agents' heartbeat interval")
	flag.IntVar(&o.parallel, "parallel", 32, "agents enrolling or connecting at once")
	flag.StringVar(&o.haltProfile, "haltprofile", "", "write CPU, mutex and block profiles of the server side during the halt to `prefix`.{cpu,mutex,block}.pprof (profiling slows the halt: not for figures)")
	flag.BoolVar(&o.storm, "storm", true, "measure the reconnect storm after a server restart")
	flag.BoolVar(&o.child, "child", false, "internal: run the simulated agents")
	flag.StringVar(&o.addr, "addr", "", "internal: the gateway address")
	flag.StringVar(&o.caFile, "ca", "", "internal: the CA certificate")
	flag.StringVar(&o.token, "token", "", "internal: the join token")
	flag.Parse()
	ctx := context.Background()
	var err error
	if o.child {
		err = runAgents(ctx, o)
	} else {
		err = runServer(ctx, o)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "agentscale:", err)
		os.Exit(1)
	}
}

type options struct {
	n, fanout, parallel int
	heartbeat           time.Duration
	child, storm        bool
	haltProfile         string
	addr, caFile, token string
}
