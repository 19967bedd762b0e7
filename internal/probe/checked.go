package probe

import (
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
)

// CheckedCommand is the command probe's execution path for other packages
// (the script fault kind): it checks argv[0], and the interpreter of a "#!"
// script, against list and returns a command that runs exactly the bytes
// checked (on Linux through the checked descriptor, see checkedCommand), in
// a process group of its own that ctx's end kills. cleanup must be called
// after the command has run. argv[0] must be absolute and clean.
func CheckedCommand(ctx context.Context, list *AllowList, argv []string) (cmd *exec.Cmd, cleanup func(), err error) {
	if len(argv) == 0 {
		return nil, nil, fmt.Errorf("check command: empty argv")
	}
	return checkedCommand(ctx, list, argv)
}

// Pins checks the executable at path, and the interpreter of a "#!" script,
// against the list now, and returns their pinned SHA-256 sums (hex) by path:
// exactly what a later process needs in an allow-list of its own (NewAllowList
// and Add) to run path again, whatever the list file says by then.
func (a *AllowList) Pins(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	head, err := a.checkFile(path, f)
	if err != nil {
		return nil, err
	}
	sum, _ := a.Sum(path)
	pins := map[string]string{path: hex.EncodeToString(sum[:])}
	if interp := interpreter(head); interp != "" {
		if err := a.checkPath(interp); err != nil {
			return nil, fmt.Errorf("interpreter of %s: %w", path, err)
		}
		isum, _ := a.Sum(interp)
		pins[interp] = hex.EncodeToString(isum[:])
	}
	return pins, nil
}
