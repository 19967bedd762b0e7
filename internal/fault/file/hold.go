package file

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() { fault.Register(Hold{}) }

// HoldParams are the parameters of file.hold.
type HoldParams struct {
	Path  string `param:"path,required,target" help:"the file to withhold (a settlement file a batch has dropped); it must exist and lie inside the file roots"`
	Until Until  `param:"until" help:"when the file goes back: an RFC 3339 time or a duration from now, within the fault's duration (default: when the fault ends)"`
}

// Until is an RFC 3339 instant or a duration from the inject.
type Until struct {
	At time.Time
	In time.Duration
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (u *Until) UnmarshalText(b []byte) error {
	if t, err := time.Parse(time.RFC3339, string(b)); err == nil {
		*u = Until{At: t}
		return nil
	}
	var d bulwark.Duration
	if err := d.UnmarshalText(b); err != nil {
		return fmt.Errorf("%q is neither an RFC 3339 time (2026-01-02T15:04:05+08:00) nor a duration (90s)", b)
	}
	if d <= 0 {
		return fmt.Errorf("%q is not a positive duration", b)
	}
	*u = Until{In: d.Std()}
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (u Until) MarshalText() ([]byte, error) {
	switch {
	case !u.At.IsZero():
		return []byte(u.At.Format(time.RFC3339Nano)), nil
	case u.In > 0:
		return bulwark.Duration(u.In).MarshalText()
	}
	return nil, nil
}

// Hold is file.hold: a file is withheld from its directory (renamed aside,
// as file.delete does) and put back when --until comes (by the guard's
// tending), when the fault ends, or on recover, whichever is first. The
// file must exist when the fault is injected: holding back a file that has
// not arrived yet is future work.
type Hold struct {
	rootsOnly
	movedAside
}

// Info implements fault.Kind.
func (Hold) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             "file.hold",
		Summary:        "Withhold a file from its directory until a time, then put it back",
		SummaryZH:      "暂扣目录中的文件直到指定时间,然后原样放回",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesFilesystem,
		ReceiptVersion: 1,
		NewParams:      func() any { return new(HoldParams) },
	}
}

// Prepare confines the path, records the file and resolves --until
// against the fault's duration; it changes nothing.
func (k Hold) Prepare(ctx context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*HoldParams)
	if !ok {
		return nil, fmt.Errorf("prepare file.hold: params are %T", req.Params)
	}
	rec, err := prepareMove(h, req.ID, p.Path)
	if err != nil {
		return nil, err
	}
	now := hostNow(h)
	until := p.Until.At
	if p.Until.In > 0 {
		until = now.Add(p.Until.In)
	}
	switch {
	case until.IsZero():
	case !until.After(now):
		return nil, &fault.ParamError{Param: "until", Message: until.Format(time.RFC3339) + " is not in the future"}
	case until.After(now.Add(req.Duration)):
		return nil, &fault.ParamError{Param: "until", Message: fmt.Sprintf("%s is after the fault ends (duration %s): the duration decides how long the file is held, --until may only end it sooner", until.Format(time.RFC3339), req.Duration)}
	default:
		rec.Until = &until
	}
	return fault.NewReceipt(k.Info(), "file:"+rec.Path, rec)
}

// Apply moves the file aside and records where.
func (Hold) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	return applyMove(h, r)
}

// Verify checks the file is withheld.
func (Hold) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	rec, err := decodeMove(r)
	if err != nil {
		return nil, err
	}
	ev, err := verifyMoved(h, rec)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", rec.Path, err)
	}
	when := "when the fault ends"
	if rec.Until != nil {
		when = "at " + rec.Until.Format(time.RFC3339) + " (or when the fault ends, if sooner)"
	}
	return append(ev, fault.Evidence("file-held", true, "%s is withheld; it goes back %s", rec.Path, when)), nil
}

// released reports whether --until has come.
func released(h *fault.Host, rec moveReceiptV1) bool {
	return rec.Until != nil && !hostNow(h).Before(*rec.Until)
}

// Guard puts the file back once --until has come. A conflict (a new file
// at the path) is returned, logged, and met again at recover.
func (Hold) Guard(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	rec, err := decodeMove(r)
	if err != nil || !released(h, rec) {
		return err
	}
	return moveBack(h, rec)
}

// Status reports drift: the file back before --until, or not back after it.
func (Hold) Status(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	rec, err := decodeMove(r)
	if err != nil {
		return nil, err
	}
	if released(h, rec) {
		if _, err := os.Lstat(rec.Path); err == nil {
			return []bulwark.Evidence{fault.Evidence("file-released", true, "%s is back since %s (--until)", rec.Path, rec.Until.Format(time.RFC3339))}, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return verifyMoved(h, rec) // due back at the guard's next tending
	}
	return verifyMoved(h, rec)
}

var (
	_ fault.Kind         = Hold{}
	_ fault.Availability = Hold{}
	_ fault.Statuser     = Hold{}
	_ fault.Guarder      = Hold{}
)
