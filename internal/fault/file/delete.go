package file

import (
	"context"
	"fmt"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() { fault.Register(Delete{}) }

// DeleteParams are the parameters of file.delete.
type DeleteParams struct {
	Path string `param:"path,required,target" help:"the regular file to delete; it must lie inside the file roots (--file-roots, BULWARK_FILE_ROOTS)"`
}

// Delete is file.delete: the file is renamed aside (never copied and
// removed) and renamed back on recover, unless a new file has appeared at
// its path meanwhile.
type Delete struct {
	rootsOnly
	movedAside
}

// Info implements fault.Kind.
func (Delete) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             "file.delete",
		Summary:        "Delete a file (moved aside, renamed back on recover)",
		SummaryZH:      "删除文件(移到一旁,恢复时原样移回)",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesFilesystem,
		ReceiptVersion: 1,
		NewParams:      func() any { return new(DeleteParams) },
	}
}

// Prepare confines the path and records which file it is; it changes
// nothing.
func (k Delete) Prepare(ctx context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*DeleteParams)
	if !ok {
		return nil, fmt.Errorf("prepare file.delete: params are %T", req.Params)
	}
	rec, err := prepareMove(h, req.ID, p.Path)
	if err != nil {
		return nil, err
	}
	return fault.NewReceipt(k.Info(), "file:"+rec.Path, rec)
}

// Apply moves the file aside and records where.
func (Delete) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	return applyMove(h, r)
}

// applyMove moves the file aside and records where in the receipt.
func applyMove(h *fault.Host, r *fault.Receipt) error {
	rec, err := decodeMove(r)
	if err != nil {
		return err
	}
	if rec.Aside, err = moveAside(h, rec); err != nil {
		return err
	}
	return r.Set(rec)
}

// Verify checks the path is empty and the file is kept aside.
func (Delete) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	rec, err := decodeMove(r)
	if err != nil {
		return nil, err
	}
	ev, err := verifyMoved(h, rec)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", rec.Path, err)
	}
	return ev, nil
}

// Status reports drift: a file is at the path again, or the kept file is
// gone.
func (Delete) Status(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	rec, err := decodeMove(r)
	if err != nil {
		return nil, err
	}
	return verifyMoved(h, rec)
}

var (
	_ fault.Kind         = Delete{}
	_ fault.Availability = Delete{}
	_ fault.Statuser     = Delete{}
)

// movedAside gives the kinds that move a file aside (file.delete, file.hold)
// their recovery: the file is renamed back, compare-and-swap.
type movedAside struct{}

// Recover renames the file back, compare-and-swap: a new file at the path
// is a *ConflictError and is not overwritten.
func (movedAside) Recover(_ context.Context, h *fault.Host, r *fault.Receipt) error {
	rec, err := decodeMove(r)
	if err != nil {
		return err
	}
	return moveBack(h, rec)
}

// VerifyRecovered checks nothing is kept aside and the file is back.
func (movedAside) VerifyRecovered(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	rec, err := decodeMove(r)
	if err != nil {
		return nil, err
	}
	return verifyMovedBack(h, rec)
}
