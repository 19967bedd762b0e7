package netfault

import (
	"context"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// sysRoot and devRoot are where kernel-bypass stacks are looked for.
var sysRoot, devRoot = "/sys", "/dev"

func notes() []string {
	if n := bypassNote(sysRoot, devRoot); n != "" {
		return []string{n}
	}
	return nil
}

// Notes implements fault.Noter: kernel-bypass networking on this host.
func (Partition) Notes(context.Context, *fault.Host) []string { return notes() }

// Notes implements fault.Noter: kernel-bypass networking on this host.
func (Loss) Notes(context.Context, *fault.Host) []string { return notes() }

// Notes implements fault.Noter: kernel-bypass networking on this host.
func (NTPBlock) Notes(context.Context, *fault.Host) []string { return notes() }

// Notes implements fault.Noter: kernel-bypass networking on this host.
func (shapeKind) Notes(context.Context, *fault.Host) []string { return notes() }

var (
	_ fault.Noter = Partition{}
	_ fault.Noter = Loss{}
	_ fault.Noter = NTPBlock{}
	_ fault.Noter = shapeKind{}
)
