package cli

import (
	"context"
	"time"

	"github.com/bulwarkhq/bulwark"

	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/hostmgr"
)

// DefaultStateDir is where a host keeps its journal when neither --state-dir
// nor BULWARK_STATE_DIR says otherwise.
const DefaultStateDir = "/var/lib/bulwark"

// lockWait bounds how long a command waits for another bulwark process that
// holds the state directory.
const lockWait = 30 * time.Second

// globals are the flags every command shares.
type globals struct {
	env       *Env
	stateDir  string
	fileRoots string
}

func (g *globals) dir() string {
	switch {
	case g.stateDir != "":
		return g.stateDir
	case g.env.Getenv("BULWARK_STATE_DIR") != "":
		return g.env.Getenv("BULWARK_STATE_DIR")
	}
	return DefaultStateDir
}

// host returns the real host with the configured state dir and file roots.
func (g *globals) host() (*fault.Host, error) {
	h := fault.DefaultHost(g.dir())
	roots := g.fileRoots
	if roots == "" {
		roots = g.env.Getenv("BULWARK_FILE_ROOTS")
	}
	if roots != "" {
		r, err := fault.ParseFileRoots(roots)
		if err != nil {
			return nil, &UsageError{err}
		}
		h.FileRoots = r
	}
	return h, nil
}

// openManager opens the host manager for a command that changes or reads the
// journal; it waits a bounded time for another bulwark holding the lock.
func (g *globals) openManager(ctx context.Context) (*hostmgr.Manager, error) {
	h, err := g.host()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, lockWait)
	defer cancel()
	dir := g.dir()
	return hostmgr.Open(ctx, hostmgr.Config{
		StateDir: dir,
		Host:     h,
		OnLive:   func(ctx context.Context, f *bulwark.Fault) { watch(ctx, dir, f, g.env) },
	})
}
