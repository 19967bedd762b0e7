package file

import (
	"context"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() { fault.Register(Chmod{}) }

// ChmodParams are the parameters of file.chmod.
type ChmodParams struct {
	Path  string `param:"path,required,target" help:"the regular file; it must lie inside the file roots"`
	Mode  string `param:"mode,required" help:"the new mode in octal, as 0000 or 0644 (setuid, setgid and sticky allowed)"`
	Owner string `param:"owner" help:"also change the owner: USER, USER:GROUP or :GROUP (names or numbers)"`
}

// mode parses --mode.
func (p *ChmodParams) mode() (uint32, error) {
	m, err := strconv.ParseUint(p.Mode, 8, 32)
	if err != nil || m > 0o7777 {
		return 0, &fault.ParamError{Param: "mode", Message: fmt.Sprintf("%q is not an octal mode from 0000 to 7777", p.Mode)}
	}
	return uint32(m), nil
}

// Validate checks --mode and --owner.
func (p *ChmodParams) Validate() error {
	if _, err := p.mode(); err != nil {
		return err
	}
	_, _, err := p.owner(-1, -1)
	return err
}

// owner resolves --owner against the file's current owner and group.
func (p *ChmodParams) owner(uid, gid int) (int, int, error) {
	if p.Owner == "" {
		return uid, gid, nil
	}
	u, g, _ := strings.Cut(p.Owner, ":")
	bad := func(err error) error {
		return &fault.ParamError{Param: "owner", Message: err.Error()}
	}
	if u != "" {
		n, err := strconv.Atoi(u)
		if err != nil {
			uu, lerr := user.Lookup(u)
			if lerr != nil {
				return 0, 0, bad(lerr)
			}
			n, _ = strconv.Atoi(uu.Uid)
		}
		uid = n
	}
	if g != "" {
		n, err := strconv.Atoi(g)
		if err != nil {
			gg, lerr := user.LookupGroup(g)
			if lerr != nil {
				return 0, 0, bad(lerr)
			}
			n, _ = strconv.Atoi(gg.Gid)
		}
		gid = n
	}
	if u == "" && g == "" {
		return 0, 0, bad(fmt.Errorf("%q: want USER, USER:GROUP or :GROUP", p.Owner))
	}
	return uid, gid, nil
}

// Chmod is file.chmod: the file's mode (and, with --owner, its owner and
// group) is changed and restored only while it is still the faulted one.
type Chmod struct{ rootsOnly }

// attrs are a file's mode bits, owner and group.
type attrs struct {
	Mode uint32 `json:"mode"`
	UID  int    `json:"uid"`
	GID  int    `json:"gid"`
}

func (a attrs) String() string { return fmt.Sprintf("mode %04o owner %d:%d", a.Mode, a.UID, a.GID) }

func attrsOf(fi os.FileInfo) attrs {
	uid, gid := ownerOf(fi)
	return attrs{Mode: permBits(fi), UID: uid, GID: gid}
}

// chmodReceiptV1 is file.chmod's undo record, receipt version 1.
type chmodReceiptV1 struct {
	FaultID string `json:"faultId"`
	Path    string `json:"path"`
	FileID  string `json:"fileId,omitempty"`
	Old     attrs  `json:"old"`
	New     attrs  `json:"new"`
	Owner   bool   `json:"owner,omitempty"`
}

// Info implements fault.Kind.
func (Chmod) Info() fault.KindInfo {
	return fault.KindInfo{
		ID:             "file.chmod",
		Summary:        "Change a file's mode (and owner), and restore it",
		SummaryZH:      "修改文件权限(及属主),恢复时还原",
		Platforms:      []string{"linux"},
		Outlives:       fault.OutlivesFilesystem,
		ReceiptVersion: 1,
		NewParams:      func() any { return new(ChmodParams) },
	}
}

// Prepare records the old and the new mode and owner; it changes nothing.
func (k Chmod) Prepare(ctx context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*ChmodParams)
	if !ok {
		return nil, fmt.Errorf("prepare file.chmod: params are %T", req.Params)
	}
	path, f, fi, err := openParam(h, p.Path)
	if err != nil {
		return nil, err
	}
	f.Close()
	if err := refuseLinks(p.Path, fi); err != nil {
		return nil, err
	}
	old := attrsOf(fi)
	mode, _ := p.mode()
	uid, gid, err := p.owner(old.UID, old.GID)
	if err != nil {
		return nil, err
	}
	nw := attrs{Mode: mode, UID: uid, GID: gid}
	if nw == old {
		return nil, &fault.ParamError{Param: "mode", Message: fmt.Sprintf("%s already has %s: the change would change nothing", p.Path, old)}
	}
	return fault.NewReceipt(k.Info(), "file:"+path, chmodReceiptV1{FaultID: req.ID, Path: path, FileID: fileID(fi), Old: old, New: nw, Owner: p.Owner != ""})
}

// setAttrs sets the owner first (chown may clear setuid and setgid), then
// the mode.
func setAttrs(f *os.File, a attrs, owner bool) error {
	if owner {
		if err := f.Chown(a.UID, a.GID); err != nil {
			return err
		}
	}
	if err := fchmod(f, a.Mode); err != nil {
		return err
	}
	return f.Sync()
}

// Apply claims the file in the state directory and changes its mode.
func (Chmod) Apply(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	rec, err := decodeChmod(r)
	if err != nil {
		return err
	}
	f, fi, err := openTarget(rec.Path, os.O_RDONLY)
	if err != nil {
		return fmt.Errorf("open %s: %w", rec.Path, err)
	}
	defer f.Close()
	if fileID(fi) != rec.FileID || attrsOf(fi) != rec.Old {
		return fmt.Errorf("chmod %s: the file changed after prepare; nothing was changed", rec.Path)
	}
	if err := storeFor(h, rec.FaultID).makeClaim(); err != nil {
		return err
	}
	if err := setAttrs(f, rec.New, rec.Owner); err != nil {
		return fmt.Errorf("chmod %s: %w", rec.Path, err)
	}
	return nil
}

// current returns the file's attributes and whether it is the same file.
func (rec chmodReceiptV1) current() (*os.File, attrs, bool, error) {
	f, fi, err := openTarget(rec.Path, os.O_RDONLY)
	if err != nil {
		return nil, attrs{}, false, err
	}
	return f, attrsOf(fi), fileID(fi) == rec.FileID, nil
}

// Verify reads the mode back.
func (Chmod) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	ev, err := chmodStatus(r)
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	return ev, nil
}

// Status reports drift: the mode is no longer the faulted one.
func (Chmod) Status(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	return chmodStatus(r)
}

func chmodStatus(r *fault.Receipt) ([]bulwark.Evidence, error) {
	rec, err := decodeChmod(r)
	if err != nil {
		return nil, err
	}
	f, cur, same, err := rec.current()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", rec.Path, err)
	}
	f.Close()
	if !same || cur != rec.New {
		return nil, fmt.Errorf("%s has %s, not the faulted %s", rec.Path, cur, rec.New)
	}
	return []bulwark.Evidence{fault.Evidence("file-mode", true, "%s has %s (was %s)", rec.Path, cur, rec.Old)}, nil
}

// Recover restores the old mode (and owner) only while the file still has
// the faulted ones; other attributes are a *ConflictError while the claim
// is there. A file that is gone or replaced carries none of the fault.
func (Chmod) Recover(ctx context.Context, h *fault.Host, r *fault.Receipt) error {
	rec, err := decodeChmod(r)
	if err != nil {
		return err
	}
	s := storeFor(h, rec.FaultID)
	claimed, err := exists(s.claim())
	if err != nil {
		return fmt.Errorf("recover %s: %w", rec.Path, err)
	}
	f, cur, same, err := rec.current()
	if err != nil {
		return s.removeAll() // the faulted inode is no longer at the path
	}
	defer f.Close()
	switch {
	case !same || cur == rec.Old || !claimed:
	case cur == rec.New:
		if err := setAttrs(f, rec.Old, rec.Owner); err != nil {
			return fmt.Errorf("recover %s: %w", rec.Path, err)
		}
	default:
		return &ConflictError{Path: rec.Path, Current: cur.String(), Faulted: rec.New.String(), Original: rec.Old.String(),
			Resolve: fmt.Sprintf("set %s yourself to restore it, or delete %s to keep what it has, and the next retry ends the fault", rec.Old, s.claim())}
	}
	return s.removeAll()
}

// VerifyRecovered checks the claim is gone and says whether the file has
// its old mode.
func (Chmod) VerifyRecovered(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	rec, err := decodeChmod(r)
	if err != nil {
		return nil, err
	}
	if err := storeFor(h, rec.FaultID).leftovers(); err != nil {
		return nil, fmt.Errorf("verify recovered %s: %w", rec.Path, err)
	}
	if f, cur, same, err := rec.current(); err == nil {
		f.Close()
		if same && cur == rec.Old {
			return []bulwark.Evidence{fault.Evidence("file-mode-restored", true, "%s has %s again", rec.Path, cur)}, nil
		}
	}
	return []bulwark.Evidence{fault.Evidence("file-released", true, "%s is %s or has other attributes a person chose to keep; nothing of the fault is left", rec.Path, describePath(rec.Path))}, nil
}

// decodeChmod decodes every receipt version this binary knows.
func decodeChmod(r *fault.Receipt) (chmodReceiptV1, error) {
	var rec chmodReceiptV1
	if err := decodeData(r, &rec); err != nil {
		return rec, err
	}
	return rec, checkFaultID(r.Kind, rec.FaultID)
}

var (
	_ fault.Kind         = Chmod{}
	_ fault.Availability = Chmod{}
	_ fault.Statuser     = Chmod{}
	_ fault.Validator    = (*ChmodParams)(nil)
)
