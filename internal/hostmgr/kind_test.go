package hostmgr_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// markKind is a test kind whose effect is a marker file named after the fault
// in --dir: real filesystem state, so the model test can compare the host
// with its baseline. Failures are switched on per directory.
type markKind struct{}

type markParams struct {
	Dir      string `param:"dir,required,target"`
	Resource string `param:"resource"`
}

type markReceipt struct {
	File string `json:"file"`
}

// failures lets a test make Apply, Verify or Recover fail for a directory.
var failures = struct {
	sync.Mutex
	apply, verify map[string]bool
	recover       map[string]int // remaining failing attempts
}{apply: map[string]bool{}, verify: map[string]bool{}, recover: map[string]int{}}

func (markKind) Info() fault.KindInfo {
	return fault.KindInfo{
		ID: "test.mark", Summary: "create a marker file", Platforms: []string{"linux", "windows"},
		Outlives: fault.OutlivesFilesystem, ReceiptVersion: 1, NewParams: func() any { return new(markParams) },
	}
}

func (k markKind) Prepare(_ context.Context, _ *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p := req.Params.(*markParams)
	if _, err := os.Stat(p.Dir); err != nil {
		return nil, &fault.ParamError{Param: "dir", Message: err.Error()}
	}
	return fault.NewReceipt(k.Info(), p.Resource, markReceipt{File: filepath.Join(p.Dir, req.ID)})
}

func (markKind) Apply(_ context.Context, _ *fault.Host, r *fault.Receipt) error {
	var d markReceipt
	if err := r.Decode(&d); err != nil {
		return err
	}
	if err := os.WriteFile(d.File, []byte("x"), 0o600); err != nil {
		return err
	}
	if failed(failures.apply, d.File) {
		return errors.New("apply failed on purpose")
	}
	return nil
}

func (markKind) Verify(_ context.Context, _ *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	var d markReceipt
	if err := r.Decode(&d); err != nil {
		return nil, err
	}
	if failed(failures.verify, d.File) {
		return nil, errors.New("verify failed on purpose")
	}
	_, err := os.Stat(d.File)
	return []bulwark.Evidence{fault.Evidence("marker", err == nil, "%s", d.File)}, err
}

func (markKind) Recover(_ context.Context, _ *fault.Host, r *fault.Receipt) error {
	var d markReceipt
	if err := r.Decode(&d); err != nil {
		return err
	}
	failures.Lock()
	n := failures.recover[filepath.Dir(d.File)]
	if n > 0 {
		failures.recover[filepath.Dir(d.File)] = n - 1
	}
	failures.Unlock()
	if n > 0 {
		return errors.New("recover failed on purpose")
	}
	if err := os.Remove(d.File); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func (markKind) VerifyRecovered(_ context.Context, _ *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	var d markReceipt
	if err := r.Decode(&d); err != nil {
		return nil, err
	}
	if _, err := os.Stat(d.File); err == nil {
		return nil, errors.New("marker still there")
	}
	return []bulwark.Evidence{fault.Evidence("marker gone", true, "%s", d.File)}, nil
}

func failed(m map[string]bool, file string) bool {
	failures.Lock()
	defer failures.Unlock()
	return m[filepath.Dir(file)]
}

func init() { fault.Register(markKind{}) }

var _ fault.Kind = markKind{}
