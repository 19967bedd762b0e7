package sqlite_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
)

// envKillChild names the database a re-executed test binary writes to
// before it kills itself.
const envKillChild = "BULWARK_SQLITE_KILL_CHILD"

const killEvents = 50

// TestKilledWriter checks the promise the engine relies on: an event is
// committed when AppendEvent returns, so a process killed right after it
// (SIGKILL, no Close, no checkpoint) leaves the event for the next command.
func TestKilledWriter(t *testing.T) {
	if path := os.Getenv(envKillChild); path != "" {
		killChild(t, path)
		return
	}
	if testing.Short() {
		t.Skip("re-executes the test binary")
	}
	path := filepath.Join(t.TempDir(), "bulwark.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), envKillChild+"="+path)
	out, err := cmd.CombinedOutput()
	if err == nil || cmd.ProcessState.Success() {
		t.Fatalf("child exited cleanly; want it killed. Output:\n%s", out)
	}

	ctx := context.Background()
	s := sqlite.NewRunStore(MustOpenDBAt(t, path))
	runs, err := s.UnfinishedRuns(ctx)
	if err != nil || len(runs) != 1 {
		t.Fatalf("UnfinishedRuns = %v, %v; want the killed run. Child output:\n%s", runs, err, out)
	}
	evs, err := s.Events(ctx, runs[0].ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != killEvents || evs[len(evs)-1].Seq != killEvents {
		t.Fatalf("%d events after kill, want %d", len(evs), killEvents)
	}
}

// killChild writes a run and its events, then kills its own process without
// closing the database.
func killChild(t *testing.T, path string) {
	ctx := context.Background()
	db := sqlite.NewDB(path)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	s := sqlite.NewRunStore(db)
	r := &bulwark.Run{ID: bulwark.NewID(), DrillName: "killed", State: bulwark.RunRunning}
	if err := s.CreateRun(ctx, r); err != nil {
		t.Fatal(err)
	}
	for range killEvents {
		if _, err := s.AppendEvent(ctx, &bulwark.RunEvent{RunID: r.ID, Type: bulwark.EventFaultActive}); err != nil {
			t.Fatal(err)
		}
	}
	p, err := os.FindProcess(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	_ = p.Kill()
	select {} // the kill lands before this returns
}
