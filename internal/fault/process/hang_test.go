//go:build linux

package process_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/process"
)

// freePID returns a pid that names no process right now.
func freePID(t *testing.T) int {
	for pid := 4_000_000; pid > 3_000_000; pid -= 7 {
		if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid))); os.IsNotExist(err) {
			return pid
		}
	}
	t.Fatal("no free pid found")
	return 0
}

// otherThread returns the id of one of this process's threads other than the
// main one.
func otherThread(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if tid, _ := strconv.Atoi(e.Name()); tid != 0 && tid != os.Getpid() {
			return tid
		}
	}
	t.Skip("single-threaded")
	return 0
}

func TestHangBadInput(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	m := newManager(t, dir)

	sshd := startProc(t, sleepAs(t, "sshd"), "60")
	stopped := startProc(t, sleepAs(t, "bwstopped"), "60")
	if err := syscall.Kill(stopped.Process.Pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return stateOf(t, stopped.Process.Pid) == 'T' })
	zombie := startProc(t, sleepAs(t, "bwzombie"), "60")
	_ = zombie.Process.Signal(syscall.SIGKILL) // not reaped: a zombie until cleanup
	waitFor(t, func() bool { return stateOf(t, zombie.Process.Pid) == 'Z' })

	cases := []struct {
		name   string
		params map[string]string
		param  string
		msg    string
	}{
		{"nothing", map[string]string{}, "pid", "required"},
		{"pid 1", map[string]string{"pid": "1"}, "pid", "never a target"},
		{"negative pid", map[string]string{"pid": "-5"}, "pid", "not a pid"},
		{"not a number", map[string]string{"pid": "12;rm"}, "pid", "whole number"},
		{"own pid", map[string]string{"pid": strconv.Itoa(os.Getpid())}, "pid", "bulwark itself"},
		{"parent pid", map[string]string{"pid": strconv.Itoa(os.Getppid())}, "pid", "bulwark itself"},
		{"own thread", map[string]string{"pid": strconv.Itoa(otherThread(t))}, "pid", "thread of process"},
		{"no such pid", map[string]string{"pid": strconv.Itoa(freePID(t))}, "pid", "no process"},
		{"deny-listed pid", map[string]string{"pid": strconv.Itoa(sshd.Process.Pid)}, "pid", "deny-list"},
		{"deny-listed name", map[string]string{"name": "sshd"}, "name", "deny-list"},
		{"already stopped", map[string]string{"pid": strconv.Itoa(stopped.Process.Pid)}, "pid", "already stopped"},
		{"zombie", map[string]string{"pid": strconv.Itoa(zombie.Process.Pid)}, "pid", "exited"},
		{"pid and name", map[string]string{"pid": "123", "name": "x"}, "name", "not both"},
		{"all-matching without name", map[string]string{"pid": "123", "all-matching": "true"}, "all-matching", "only goes with --name"},
		{"name too long", map[string]string{"name": "a-name-longer-than-15"}, "name", "longer than 15"},
		{"no such name", map[string]string{"name": "bw-none-such"}, "name", "no process"},
		{"max-matches zero", map[string]string{"name": "x", "max-matches": "0"}, "max-matches", "out of range"},
		{"unknown param", map[string]string{"pid": "123", "signal": "9"}, "signal", "no parameter"},
	}
	if st, err := readStat(2); err == nil && st.Comm == "kthreadd" {
		cases = append(cases, struct {
			name   string
			params map[string]string
			param  string
			msg    string
		}{"kernel thread", map[string]string{"pid": "2"}, "pid", "kernel thread"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := m.Inject(context.Background(), hangSpec(tc.params, time.Minute))
			var pe *fault.ParamError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *fault.ParamError", err)
			}
			if pe.Param != tc.param || !strings.Contains(pe.Message, tc.msg) {
				t.Fatalf("err = %v, want --%s: …%s…", err, tc.param, tc.msg)
			}
		})
	}
	fs, err := m.Faults(context.Background(), bulwark.FaultFilter{})
	if err != nil || len(fs) != 0 {
		t.Fatalf("journal holds %d faults (%v) after refused injects, want none", len(fs), err)
	}
	if s := stateOf(t, stopped.Process.Pid); s != 'T' {
		t.Fatalf("refused target's state changed to %c", s)
	}
	if s := stateOf(t, sshd.Process.Pid); s == 'T' {
		t.Fatal("deny-listed process was stopped")
	}
}

func TestHangStopsAndResumes(t *testing.T) {
	requireRoot(t)
	m := newManager(t, t.TempDir())
	cmd := startProc(t, sleepAs(t, "sleep"), "60")
	pid := cmd.Process.Pid

	f := mustInject(t, m, map[string]string{"pid": strconv.Itoa(pid)}, time.Minute)
	if s := stateOf(t, pid); s != 'T' {
		t.Fatalf("state %c after inject, want T", s)
	}
	if !hasEvidence(f, "process-stopped") {
		t.Fatalf("no stop evidence: %+v", f.Evidence)
	}
	st, _ := readStat(pid)
	if want := (fault.Proc{PID: pid, StartTime: st.StartTime}).String(); f.Resource != want {
		t.Fatalf("resource %q, want %q", f.Resource, want)
	}

	// A second hang of the same process is refused while the first holds it.
	if _, err := m.Inject(context.Background(), hangSpec(map[string]string{"pid": strconv.Itoa(pid)}, time.Minute)); err == nil {
		t.Fatal("second hang of the same process was accepted")
	}

	r := mustRecover(t, m, f.ID)
	if !hasEvidence(r, "process-resumed") {
		t.Fatalf("no resume evidence: %+v", r.Evidence)
	}
	if s := stateOf(t, pid); s == 'T' {
		t.Fatalf("state %c after recover", s)
	}
	mustRecover(t, m, f.ID) // again: not an error
	if s := stateOf(t, pid); s != 'S' && s != 'R' {
		t.Fatalf("state %c after second recover, want S", s)
	}
}

func TestHangExpiresThroughSweep(t *testing.T) {
	requireRoot(t)
	m := newManager(t, t.TempDir())
	pid := startProc(t, sleepAs(t, "sleep"), "60").Process.Pid
	f := mustInject(t, m, map[string]string{"pid": strconv.Itoa(pid)}, 100*time.Millisecond)
	time.Sleep(150 * time.Millisecond)
	swept, err := m.Sweep(context.Background())
	if err != nil || len(swept) != 1 || swept[0].ID != f.ID || swept[0].State != bulwark.StateRecovered {
		t.Fatalf("sweep = %+v, %v; want %s recovered", swept, err, f.ID)
	}
	if swept[0].EndReason != "expired" {
		t.Fatalf("end reason %q", swept[0].EndReason)
	}
	if s := stateOf(t, pid); s == 'T' {
		t.Fatal("still stopped after expiry")
	}
}

func TestHangRecoversInNewManager(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	pid := startProc(t, sleepAs(t, "sleep"), "60").Process.Pid
	m1 := newManager(t, dir)
	f := mustInject(t, m1, map[string]string{"pid": strconv.Itoa(pid)}, time.Minute)
	if err := m1.Close(); err != nil {
		t.Fatal(err)
	}
	m2 := newManager(t, dir)
	mustRecover(t, m2, f.ID)
	if s := stateOf(t, pid); s == 'T' {
		t.Fatal("still stopped after recovery in a new manager")
	}
}

func TestHangTargetExitsWhileHung(t *testing.T) {
	requireRoot(t)
	m := newManager(t, t.TempDir())
	cmd := startProc(t, sleepAs(t, "sleep"), "60")
	f := mustInject(t, m, map[string]string{"pid": strconv.Itoa(cmd.Process.Pid)}, time.Minute)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	r := mustRecover(t, m, f.ID)
	found := false
	for _, e := range r.Evidence {
		found = found || e.Check == "process-resumed" && strings.Contains(e.Detail, "is gone")
	}
	if !found {
		t.Fatalf("no evidence that the process was gone: %+v", r.Evidence)
	}
}

func TestHangByName(t *testing.T) {
	requireRoot(t)
	m := newManager(t, t.TempDir())
	name := fmt.Sprintf("bwh%d", os.Getpid()%1_000_000)
	exe := sleepAs(t, name)
	a := startProc(t, exe, "60").Process.Pid

	f := mustInject(t, m, map[string]string{"name": name}, time.Minute)
	if s := stateOf(t, a); s != 'T' {
		t.Fatalf("state %c, want T", s)
	}
	mustRecover(t, m, f.ID)

	b := startProc(t, exe, "60").Process.Pid
	for _, tc := range []struct {
		params map[string]string
		param  string
	}{
		{map[string]string{"name": name}, "name"},
		{map[string]string{"name": name, "all-matching": "true", "max-matches": "1"}, "max-matches"},
	} {
		_, err := m.Inject(context.Background(), hangSpec(tc.params, time.Minute))
		var pe *fault.ParamError
		if !errors.As(err, &pe) || pe.Param != tc.param {
			t.Fatalf("inject %v: err = %v, want --%s", tc.params, err, tc.param)
		}
	}
	f = mustInject(t, m, map[string]string{"name": name, "all-matching": "true"}, time.Minute)
	for _, pid := range []int{a, b} {
		if s := stateOf(t, pid); s != 'T' {
			t.Fatalf("pid %d state %c, want T", pid, s)
		}
	}
	mustRecover(t, m, f.ID)
	for _, pid := range []int{a, b} {
		if s := stateOf(t, pid); s == 'T' {
			t.Fatalf("pid %d still stopped", pid)
		}
	}
}

// rawReceipt builds a process.hang receipt by hand, as a journal from another
// process would hold it.
func rawReceipt(pid int, start uint64) *fault.Receipt {
	data := fmt.Sprintf(`{"procs":[{"pid":%d,"startTime":%d,"comm":"sleep","priorState":"S"}]}`, pid, start)
	return &fault.Receipt{Kind: "process.hang", Version: 1, Data: json.RawMessage(data)}
}

func TestHangPIDReuseIsNotSignalled(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	h := fault.DefaultHost(t.TempDir())
	pid := startProc(t, sleepAs(t, "sleep"), "60").Process.Pid
	st, _ := readStat(pid)
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return stateOf(t, pid) == 'T' })

	// The receipt names this pid with another start time: an earlier process
	// that had the pid. Recovery must leave the current one alone.
	r := rawReceipt(pid, st.StartTime+1)
	k := process.Hang{}
	if err := k.Recover(ctx, h, r); err != nil {
		t.Fatalf("recover: %v", err)
	}
	if s := stateOf(t, pid); s != 'T' {
		t.Fatalf("a process with another start time was resumed (state %c)", s)
	}
	ev, err := k.VerifyRecovered(ctx, h, r)
	if err != nil || len(ev) != 1 || !strings.Contains(ev[0].Detail, "is gone") {
		t.Fatalf("verify recovered = %+v, %v", ev, err)
	}
	if _, err := k.Status(ctx, h, r); err == nil {
		t.Fatal("status of a receipt whose process is gone reported no drift")
	}
	if err := k.Apply(ctx, h, r); !errors.Is(err, fault.ErrGone) {
		t.Fatalf("apply with a stale start time: %v, want ErrGone", err)
	}
}

func TestHangStatusDrift(t *testing.T) {
	requireRoot(t)
	ctx := context.Background()
	h := fault.DefaultHost(t.TempDir())
	pid := startProc(t, sleepAs(t, "sleep"), "60").Process.Pid
	k := process.Hang{}
	params, err := fault.Decode(k.Info(), map[string]string{"pid": strconv.Itoa(pid)})
	if err != nil {
		t.Fatal(err)
	}
	r, err := k.Prepare(ctx, h, fault.Request{ID: "t", Params: params, Duration: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if s := stateOf(t, pid); s == 'T' {
		t.Fatal("prepare stopped the process")
	}
	if err := k.Apply(ctx, h, r); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = k.Recover(ctx, h, r) })
	if _, err := k.Verify(ctx, h, r); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Status(ctx, h, r); err != nil {
		t.Fatalf("status while hung: %v", err)
	}
	if err := syscall.Kill(pid, syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return stateOf(t, pid) != 'T' })
	if _, err := k.Status(ctx, h, r); err == nil || !strings.Contains(err.Error(), "no longer stopped") {
		t.Fatalf("status after someone resumed it: %v, want drift", err)
	}
	if err := k.Recover(ctx, h, r); err != nil {
		t.Fatal(err)
	}
	if _, err := k.VerifyRecovered(ctx, h, r); err != nil {
		t.Fatal(err)
	}
}

func TestHangRefusesNewerReceipt(t *testing.T) {
	r := rawReceipt(12345, 1)
	r.Version = 2
	if err := (process.Hang{}).Recover(context.Background(), fault.DefaultHost(t.TempDir()), r); !errors.Is(err, bulwark.ErrNewerReceipt) {
		t.Fatalf("recover of a v2 receipt: %v, want ErrNewerReceipt", err)
	}
}
