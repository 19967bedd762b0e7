package disk

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
	"golang.org/x/sys/unix"
)

func init() {
	fault.RegisterHelper(ioHelperName, fault.HelperMain(ioHelperName, func() fault.HelperBody { return new(ioConfig) }))
}

// ioHelperName is disk.io's helper entry point: `bulwark helper disk-io …`.
const ioHelperName = "disk-io"

// ioConfig is the helper's command line: `--fault ID --deadline T --file F
// --mode M --rate N --iops N --block-size N --file-size N --status FILE`.
type ioConfig struct {
	fault.HelperArgs
	file      string
	mode      string
	rate      int64 // bytes/s, or 0
	iops      int64 // ops/s, or 0
	blockSize int64
	fileSize  int64
}

// Flags implements fault.HelperBody.
func (c *ioConfig) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.file, "file", "", "")
	fs.StringVar(&c.mode, "mode", "write", "")
	fs.Int64Var(&c.rate, "rate", 0, "")
	fs.Int64Var(&c.iops, "iops", 0, "")
	fs.Int64Var(&c.blockSize, "block-size", 0, "")
	fs.Int64Var(&c.fileSize, "file-size", 0, "")
}

// Check implements fault.HelperBody.
func (c *ioConfig) Check() error {
	switch {
	case !filepath.IsAbs(c.file) || filepath.Base(c.file) != ioPrefix+c.Fault:
		return fmt.Errorf("bad --file %q", c.file)
	case c.mode != "read" && c.mode != "write" && c.mode != "mixed":
		return fmt.Errorf("bad --mode %q", c.mode)
	case (c.rate > 0) == (c.iops > 0):
		return errors.New("give one of --rate and --iops")
	case c.blockSize < 512 || c.fileSize < c.blockSize:
		return fmt.Errorf("bad --block-size %d or --file-size %d", c.blockSize, c.fileSize)
	}
	return nil
}

// IOStatus is what the disk-io helper writes to its status file once a
// second.
type IOStatus struct {
	Time   time.Time `json:"time"`
	Fault  string    `json:"fault"`
	PID    int       `json:"pid"`
	State  string    `json:"state"` // "running" or "exited"
	Reason string    `json:"reason,omitempty"`
	Mode   string    `json:"mode"`
	File   string    `json:"file"`
	Direct bool      `json:"direct"` // O_DIRECT in use; false: through the page cache
	Note   string    `json:"note,omitempty"`
	Rate   int64     `json:"rate,omitempty"` // target bytes/s
	IOPS   int64     `json:"iops,omitempty"` // target ops/s
	// BytesPerSec and OpsPerSec were achieved over the last second (zero in
	// the first status, written before anything was measured).
	BytesPerSec float64 `json:"bytesPerSec"`
	OpsPerSec   float64 `json:"opsPerSec"`
	TotalBytes  int64   `json:"totalBytes"`
	TotalOps    int64   `json:"totalOps"`
}

// bucket is a token bucket: tokens accrue at rate per second up to burst;
// take waits until n are there.
type bucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func newBucket(rate, burst float64) *bucket {
	return &bucket{rate: rate, burst: burst, last: time.Now()}
}

// take removes n tokens, sleeping until they have accrued. n may exceed
// burst: the bucket then goes into debt and the next take waits it off.
func (b *bucket) take(ctx context.Context, n float64) error {
	now := time.Now()
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	b.last = now
	b.tokens -= n
	if b.tokens >= 0 {
		return nil
	}
	wait := time.Duration(-b.tokens / b.rate * float64(time.Second))
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Run is the body of `bulwark helper disk-io` (fault.HelperBody). It
// returns when ctx ends, at the deadline or on a signal, and removes its
// scratch file whatever the reason.
func (c *ioConfig) Run(ctx context.Context) error {
	w, err := newIOWorker(ctx, *c)
	if w != nil {
		defer w.close()
	}
	if err != nil {
		return err
	}
	return w.run(ctx)
}

// ioWorker is a running disk-io helper.
type ioWorker struct {
	cfg    ioConfig
	f      *os.File
	buf    []byte
	direct bool
	note   string
	bytes  int64
	ops    int64
}

// newIOWorker creates the scratch file (never an existing one), opened with
// O_DIRECT where the filesystem supports it, and for read and mixed loads
// writes it whole first so that reads hit allocated blocks.
func newIOWorker(ctx context.Context, cfg ioConfig) (*ioWorker, error) {
	w := &ioWorker{cfg: cfg, direct: true}
	flags := os.O_RDWR | os.O_CREATE | os.O_EXCL | unix.O_NOFOLLOW | unix.O_CLOEXEC
	f, err := os.OpenFile(cfg.file, flags|unix.O_DIRECT, 0o600)
	if errors.Is(err, unix.EINVAL) {
		w.direct, w.note = false, "the filesystem refuses O_DIRECT: the load goes through the page cache"
		f, err = os.OpenFile(cfg.file, flags, 0o600)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: create scratch file: %w", ioHelperName, err)
	}
	w.f = f
	buf, err := unix.Mmap(-1, 0, int(cfg.blockSize), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return w, fmt.Errorf("%s: map buffer: %w", ioHelperName, err)
	}
	w.buf = buf
	rand.Read(w.buf) // incompressible, never all zeros
	if err := unix.Fallocate(int(f.Fd()), 0, 0, cfg.fileSize); err != nil && !errors.Is(err, unix.EOPNOTSUPP) {
		return w, fmt.Errorf("%s: allocate scratch file: %w", ioHelperName, err)
	}
	if cfg.mode != "write" {
		for off := int64(0); off+cfg.blockSize <= cfg.fileSize; off += cfg.blockSize {
			if ctx.Err() != nil {
				return w, context.Cause(ctx)
			}
			if err := w.write(off); err != nil {
				return w, err
			}
		}
		w.bytes, w.ops = 0, 0
	}
	return w, nil
}

// write writes one block at off, falling back to buffered I/O once if the
// filesystem accepted O_DIRECT at open but refuses it on write.
func (w *ioWorker) write(off int64) error {
	_, err := w.f.WriteAt(w.buf, off)
	if err != nil && w.direct && errors.Is(err, unix.EINVAL) {
		if err = w.buffered(); err == nil {
			_, err = w.f.WriteAt(w.buf, off)
		}
	}
	if err != nil {
		return fmt.Errorf("%s: write: %w", ioHelperName, err)
	}
	w.bytes += int64(len(w.buf))
	w.ops++
	return nil
}

func (w *ioWorker) read(off int64) error {
	_, err := w.f.ReadAt(w.buf, off)
	if err != nil && w.direct && errors.Is(err, unix.EINVAL) {
		if err = w.buffered(); err == nil {
			_, err = w.f.ReadAt(w.buf, off)
		}
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("%s: read: %w", ioHelperName, err)
	}
	w.bytes += int64(len(w.buf))
	w.ops++
	return nil
}

// buffered drops O_DIRECT from the open file.
func (w *ioWorker) buffered() error {
	fl, err := unix.FcntlInt(w.f.Fd(), unix.F_GETFL, 0)
	if err == nil {
		_, err = unix.FcntlInt(w.f.Fd(), unix.F_SETFL, fl&^unix.O_DIRECT)
	}
	if err != nil {
		return fmt.Errorf("%s: drop O_DIRECT: %w", ioHelperName, err)
	}
	w.direct, w.note = false, "the filesystem refuses O_DIRECT i/o: the load goes through the page cache"
	return nil
}

// close removes the scratch file and closes it.
func (w *ioWorker) close() {
	if w.f != nil {
		os.Remove(w.cfg.file)
		w.f.Close()
	}
	if w.buf != nil {
		unix.Munmap(w.buf)
	}
}

// run does paced I/O, cycling through the file block by block, until ctx is
// done or the wall-clock deadline passes, writing a status each second.
func (w *ioWorker) run(ctx context.Context) error {
	var b *bucket
	cost := 1.0
	if w.cfg.rate > 0 {
		cost = float64(w.cfg.blockSize)
		b = newBucket(float64(w.cfg.rate), max(cost, float64(w.cfg.rate)/10))
	} else {
		b = newBucket(float64(w.cfg.iops), max(1, float64(w.cfg.iops)/10))
	}
	blocks := w.cfg.fileSize / w.cfg.blockSize
	w.writeStatus("running", "", 0, 0)
	lastT, lastB, lastO := time.Now(), w.bytes, w.ops
	var reason error
	for i := int64(0); reason == nil; i++ {
		if err := b.take(ctx, cost); err != nil {
			if reason = context.Cause(ctx); errors.Is(reason, fault.ErrHelperDeadline) {
				reason = fault.ErrHelperDeadline // "deadline", whichever clock saw it
			}
			break
		}
		off := (i % blocks) * w.cfg.blockSize
		var err error
		if w.cfg.mode == "read" || w.cfg.mode == "mixed" && i%2 == 1 {
			err = w.read(off)
		} else {
			err = w.write(off)
		}
		if err != nil {
			w.writeStatus("exited", err.Error(), 0, 0)
			return err
		}
		if now := time.Now(); now.Sub(lastT) >= time.Second {
			secs := now.Sub(lastT).Seconds()
			w.writeStatus("running", "", float64(w.bytes-lastB)/secs, float64(w.ops-lastO)/secs)
			lastT, lastB, lastO = now, w.bytes, w.ops
		}
	}
	w.writeStatus("exited", reason.Error(), 0, 0)
	return nil
}

// writeStatus replaces the status file atomically. A failure to write is
// not fatal: Status notices a stale file.
func (w *ioWorker) writeStatus(state, reason string, bps, ops float64) {
	s := IOStatus{
		Time: time.Now().UTC(), Fault: w.cfg.Fault, PID: os.Getpid(), State: state, Reason: reason,
		Mode: w.cfg.mode, File: w.cfg.file, Direct: w.direct, Note: w.note, Rate: w.cfg.rate, IOPS: w.cfg.iops,
		BytesPerSec: bps, OpsPerSec: ops, TotalBytes: w.bytes, TotalOps: w.ops,
	}
	_ = w.cfg.WriteStatus(s)
}

// ReadIOStatus reads a disk-io helper's status file.
func ReadIOStatus(path string) (*IOStatus, error) {
	var s IOStatus
	if err := fault.ReadStatusFile(path, &s); err != nil {
		return nil, err
	}
	return &s, nil
}
