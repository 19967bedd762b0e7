package exhaust

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// FDID is fd.exhaust's identifier.
const FDID = "fd.exhaust"

// FD is fd.exhaust: the target's RLIMIT_NOFILE soft limit (and with --hard
// its hard limit) is lowered to the lowest fd number still free plus
// --headroom free slots, so its next open, socket or accept fails with
// EMFILE while every other process opens files as before.
type FD struct{}

var fdLimit = limitKind{
	id: FDID, resource: unix.RLIMIT_NOFILE, name: "RLIMIT_NOFILE", effect: "next open fails with EMFILE",
	plan:  planFDs,
	usage: fdsLeft,
}

// Info implements fault.Kind.
func (FD) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             FDID,
		Summary:        "Exhaust one process's file descriptors: lower its RLIMIT_NOFILE so its next open fails with EMFILE; or, with --host-wide, the kernel's file table down to a reserve",
		SummaryZH:      "耗尽单个进程的文件描述符：降低其 RLIMIT_NOFILE，使其下一次打开文件以 EMFILE 失败；或以 --host-wide 将内核文件表耗尽至预留量",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesProcess,
		ReceiptVersion: 2, // 2: host-wide receipts (hostWideReceiptV2); per-target ones are unchanged
		NewParams:      func() any { return new(FDParams) },
	}
}

// Available implements fault.Availability.
func (FD) Available(context.Context, *fault.Host) error { return available() }

// Prepare implements fault.Kind: it checks the target and plans the limit.
func (k FD) Prepare(_ context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*FDParams)
	if !ok {
		return nil, fmt.Errorf("prepare %s: params are %T", FDID, req.Params)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	if p.HostWide {
		return prepareHostWide(h, k.Info(), req, hostFD, p.Reserve, 0, "")
	}
	return fdLimit.prepare(h, k.Info(), p.PID, p.Headroom, p.Hard)
}

// Apply implements fault.Kind.
func (FD) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	if isHostWide(r) {
		return applyHostWide(ctx, h, r)
	}
	return fdLimit.apply(h, r)
}

// Verify implements fault.Kind.
func (FD) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	if isHostWide(r) {
		return verifyHostWide(ctx, h, r)
	}
	return fdLimit.verify(h, r)
}

// Status implements fault.Statuser: the target may raise its own soft limit
// (up to the hard one), so drift is possible.
func (FD) Status(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	if isHostWide(r) {
		return statusHostWide(h, r)
	}
	return fdLimit.status(h, r)
}

// Recover implements fault.Kind.
func (FD) Recover(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	if isHostWide(r) {
		return recoverHostWide(ctx, h, r)
	}
	return fdLimit.recover(h, r)
}

// VerifyRecovered implements fault.Kind.
func (FD) VerifyRecovered(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	if isHostWide(r) {
		return verifyRecoveredHostWide(h, r)
	}
	return fdLimit.verifyRecovered(h, r)
}

// openFDs returns the target's open fd numbers, sorted.
func openFDs(h *fault.Host, pid int) ([]int, error) {
	ents, err := os.ReadDir(filepath.Join(h.ProcRoot, strconv.Itoa(pid), "fd"))
	if err != nil {
		return nil, err
	}
	fds := make([]int, 0, len(ents))
	for _, e := range ents {
		if n, err := strconv.Atoi(e.Name()); err == nil {
			fds = append(fds, n)
		}
	}
	sort.Ints(fds)
	return fds, nil
}

// planFDs returns the soft limit under which exactly headroom fd numbers are
// free: the kernel hands out the lowest free number and fails with EMFILE
// when it is at or above the soft limit, so a count of open fds is not
// enough when they are sparse.
func planFDs(h *fault.Host, p fault.Proc, headroom int) (uint64, string, error) {
	fds, err := openFDs(h, p.PID)
	if err != nil {
		return 0, "", err
	}
	return softFor(fds, headroom), fmt.Sprintf("%d fds open, highest %d", len(fds), highest(fds)), nil
}

// softFor returns the (headroom+1)-th lowest number not in the sorted fds.
func softFor(fds []int, headroom int) uint64 {
	free, n, i := 0, 0, 0
	for ; ; n++ {
		if i < len(fds) && fds[i] == n {
			i++
			continue
		}
		if free == headroom {
			return uint64(n)
		}
		free++
	}
}

// fdsLeft counts the free fd numbers below soft.
func fdsLeft(h *fault.Host, p fault.Proc, soft uint64) (int, string, error) {
	fds, err := openFDs(h, p.PID)
	if err != nil {
		return 0, "", err
	}
	below := 0
	for _, fd := range fds {
		if uint64(fd) < soft {
			below++
		}
	}
	return int(soft) - below, fmt.Sprintf("%d fds open (highest %d), %d of them below the soft limit %d", len(fds), highest(fds), below, soft), nil
}

func highest(fds []int) int {
	if len(fds) == 0 {
		return -1
	}
	return fds[len(fds)-1]
}

var (
	_ fault.Kind         = FD{}
	_ fault.Availability = FD{}
	_ fault.Statuser     = FD{}
	_ fault.Validator    = (*FDParams)(nil)
)
