package agent_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// markerKind is a harmless test kind: its effect is a file named after the
// fault in --dir, real state the tests can look at.
type markerKind struct{}

type markerParams struct {
	Dir string `param:"dir,required,target"`
}

type markerReceipt struct {
	File string `json:"file"`
}

func (markerKind) Info() fault.KindInfo {
	return fault.KindInfo{
		ID: "test.marker", Summary: "create a marker file", Platforms: []string{"linux", "windows"},
		Outlives: fault.OutlivesFilesystem, ReceiptVersion: 1, NewParams: func() any { return new(markerParams) },
	}
}

func (k markerKind) Prepare(_ context.Context, _ *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p := req.Params.(*markerParams)
	if _, err := os.Stat(p.Dir); err != nil {
		return nil, &fault.ParamError{Param: "dir", Message: err.Error()}
	}
	return fault.NewReceipt(k.Info(), "", markerReceipt{File: filepath.Join(p.Dir, req.ID)})
}

func (markerKind) Apply(_ context.Context, _ *fault.Host, r *fault.Receipt) error {
	var d markerReceipt
	if err := r.Decode(&d); err != nil {
		return err
	}
	return os.WriteFile(d.File, []byte("x"), 0o600)
}

func (markerKind) Verify(_ context.Context, _ *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	var d markerReceipt
	if err := r.Decode(&d); err != nil {
		return nil, err
	}
	_, err := os.Stat(d.File)
	return []bulwark.Evidence{fault.Evidence("marker", err == nil, "%s", d.File)}, err
}

func (markerKind) Recover(_ context.Context, _ *fault.Host, r *fault.Receipt) error {
	var d markerReceipt
	if err := r.Decode(&d); err != nil {
		return err
	}
	if err := os.Remove(d.File); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

func (markerKind) VerifyRecovered(_ context.Context, _ *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	var d markerReceipt
	if err := r.Decode(&d); err != nil {
		return nil, err
	}
	if _, err := os.Stat(d.File); err == nil {
		return nil, errors.New("marker still there")
	}
	return []bulwark.Evidence{fault.Evidence("marker gone", true, "%s", d.File)}, nil
}

func init() { fault.Register(markerKind{}) }
