package script

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/probe"
)

func init() { fault.Register(Kind{}) }

// AllowListEnv names the environment variable holding the allow-list's path.
const AllowListEnv = "BULWARK_ALLOW_LIST"

// recoveredMarker is the file, in the fault's data directory, whose presence
// says the recover command has exited 0.
const recoveredMarker = "recovered"

// Kind is script.run: an allow-listed inject command, and at recover or
// expiry an allow-listed recover command, each run as an argv.
type Kind struct{}

// scriptV1 is script.run's receipt data, version 1.
type scriptV1 struct {
	// ID is the fault's id: it names the data directory of the marker.
	ID      string   `json:"id"`
	Inject  []string `json:"inject"`
	Recover []string `json:"recover"`
	// Pins are the SHA-256 sums (hex) of both executables, and of a "#!"
	// script's interpreter, by path, as the allow-list held them at inject.
	Pins map[string]string `json:"pins"`
	// AllowList is the file the pins were read from.
	AllowList string           `json:"allowList"`
	Timeout   bulwark.Duration `json:"timeout"`
	// Injected is set by Apply: how the inject command ended.
	Injected *runV1 `json:"injected,omitempty"`
}

// runV1 is how a command ended: never its output, only the output's size
// and SHA-256 (DESIGN §6.12).
type runV1 struct {
	At           time.Time        `json:"at"`
	Exit         int              `json:"exit"`
	Took         bulwark.Duration `json:"took"`
	OutputBytes  int              `json:"outputBytes"`
	OutputSHA256 string           `json:"outputSha256"`
}

// Info implements fault.Kind.
func (Kind) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             "script.run",
		Summary:        "Run an allow-listed inject command, and an allow-listed recover command at recover or expiry (argv, never a shell)",
		SummaryZH:      "脚本故障：运行白名单内（SHA-256 校验）的注入命令，恢复或到期时运行白名单内的恢复命令（参数数组，不经 shell）",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesFilesystem,
		ReceiptVersion: 1,
		Composes:       true,
		NewParams:      func() any { return new(Params) },
	}
}

// Available reports whether this platform runs checked commands through the
// descriptor that was hashed.
func (Kind) Available(ctx context.Context, h *fault.Host) error {
	if runtime.GOOS != "linux" {
		return errors.New("script.run needs Linux (executing the hashed descriptor through /proc/self/fd)")
	}
	return nil
}

// allowListPath is where the allow-list is read: the parameter, else the
// environment, else the state directory's.
func allowListPath(h *fault.Host, p *Params) string {
	switch {
	case p.AllowList != "":
		return p.AllowList
	case os.Getenv(AllowListEnv) != "":
		return os.Getenv(AllowListEnv)
	}
	return filepath.Join(h.StateDir, "allow-list")
}

// Prepare parses both commands, loads the allow-list and checks both
// executables against it now, pinning their sums into the receipt. It
// runs nothing. A missing list, or an executable not on it, is refused
// naming the parameter.
func (k Kind) Prepare(ctx context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*Params)
	if !ok {
		return nil, fmt.Errorf("prepare script.run: params are %T", req.Params)
	}
	if err := k.Available(ctx, h); err != nil {
		return nil, err
	}
	inject, recover, err := p.Argv()
	if err != nil {
		return nil, err
	}
	path := allowListPath(h, p)
	list, err := probe.LoadAllowList(path)
	if err != nil {
		return nil, &fault.ParamError{Param: "allow-list", Message: fmt.Sprintf("%v (script.run runs only executables pinned by SHA-256 in an allow-list: --allow-list, %s or <state-dir>/allow-list)", err, AllowListEnv)}
	}
	d := &scriptV1{ID: req.ID, Inject: inject, Recover: recover, Pins: map[string]string{}, AllowList: path, Timeout: p.Timeout}
	for param, argv := range map[string][]string{"inject": inject, "recover": recover} {
		pins, err := list.Pins(argv[0])
		if err != nil {
			return nil, &fault.ParamError{Param: param, Message: err.Error()}
		}
		for path, sum := range pins {
			d.Pins[path] = sum
		}
	}
	if !bulwark.ValidID(req.ID) {
		return nil, fmt.Errorf("fault id %q is not a UUID", req.ID)
	}
	return fault.NewReceipt(k.Info(), "", d)
}

// Apply runs the inject command to its end and records how it ended. A
// command that fails or times out fails the inject; the manager then
// recovers, running the recover command, since the inject may have done
// part of its work.
func (Kind) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decode(r)
	if err != nil {
		return err
	}
	run, err := d.run(ctx, "inject", d.Inject)
	if run != nil {
		d.Injected = run
		if err2 := r.Set(d); err2 != nil {
			return err2
		}
	}
	return err
}

// Verify reports what can be known: the inject command exited 0. What the
// command changed is its own business and is not read back.
func (Kind) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decode(r)
	if err != nil {
		return nil, err
	}
	if d.Injected == nil || d.Injected.Exit != 0 {
		err := fmt.Errorf("the inject command %s has not exited 0", d.Inject[0])
		return []bulwark.Evidence{fault.Evidence("inject", false, "%v", err)}, err
	}
	in := d.Injected
	return []bulwark.Evidence{
		fault.Evidence("inject", true, "%q exited 0 after %v at %s; output %d bytes, SHA-256 %s",
			d.Inject, in.Took.Std(), in.At.Format(time.RFC3339Nano), in.OutputBytes, in.OutputSHA256),
		fault.Evidence("recover", true, "%q pinned for recovery and expiry: %s", d.Recover, pinsText(d)),
		fault.Evidence("read-back", true, "none: bulwark cannot read back what a script changed"),
	}, nil
}

// Recover runs the recover command once: after it has exited 0, a marker
// makes every later call a no-op.
func (Kind) Recover(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decode(r)
	if err != nil {
		return err
	}
	marker := filepath.Join(h.StateDir, "data", d.ID, recoveredMarker)
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	run, err := d.run(ctx, "recover", d.Recover)
	if err != nil {
		return err
	}
	dir, err := h.DataDir(d.ID)
	if err != nil {
		return fmt.Errorf("record recovery: %w", err)
	}
	text := fmt.Sprintf("%s exit %d took %v output %d bytes sha256 %s\n", run.At.Format(time.RFC3339Nano), run.Exit, run.Took.Std(), run.OutputBytes, run.OutputSHA256)
	if err := writeSynced(filepath.Join(dir, recoveredMarker), text); err != nil {
		return fmt.Errorf("record recovery: %w", err)
	}
	return nil
}

// VerifyRecovered checks that the recover command has exited 0.
func (Kind) VerifyRecovered(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decode(r)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(filepath.Join(h.StateDir, "data", d.ID, recoveredMarker))
	if err != nil {
		err = fmt.Errorf("the recover command %s has not exited 0: %w", d.Recover[0], err)
		return []bulwark.Evidence{fault.Evidence("recover", false, "%v", err)}, err
	}
	return []bulwark.Evidence{fault.Evidence("recover", true, "%q: %s", d.Recover, trimNL(string(b)))}, nil
}

// decode reads receipt data of any version this binary knows.
func decode(r *fault.Receipt) (*scriptV1, error) {
	if r.Version != 1 {
		return nil, fmt.Errorf("script.run receipt v%d is not known to this binary: %w", r.Version, bulwark.ErrNewerReceipt)
	}
	var d scriptV1
	if err := r.Decode(&d); err != nil {
		return nil, err
	}
	if len(d.Inject) == 0 || len(d.Recover) == 0 || !bulwark.ValidID(d.ID) {
		return nil, fmt.Errorf("script.run receipt lacks its commands or id")
	}
	return &d, nil
}

var (
	_ fault.Kind         = Kind{}
	_ fault.Availability = Kind{}
)
