// Command bulwark is the agent, server and CLI of the Bulwark chaos
// engineering platform.
package main

import (
	"context"
	"os"

	"github.com/bulwarkhq/bulwark/internal/cli"
	_ "github.com/bulwarkhq/bulwark/internal/fault/all" // every fault kind
)

func main() {
	os.Exit(cli.Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
