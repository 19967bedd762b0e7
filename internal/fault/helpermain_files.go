package fault

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// HelperStatusPath returns where the helper of fault id writes its status:
// status.json in the fault's data directory (DataPath).
func (h *Host) HelperStatusPath(id string) string {
	return filepath.Join(h.DataPath(id), "status.json")
}

// HelperFiles prepares for starting the helper of fault id: it creates the
// fault's data directory (DataDir) and removes a status file an earlier
// helper left there, so that the status the kind then waits for is the new
// helper's. It returns the directory (for StartHelper's log) and the status
// file's path (for the helper's --status).
func (h *Host) HelperFiles(id string) (dir, status string, err error) {
	dir, err = h.DataDir(id)
	if err != nil {
		return "", "", fmt.Errorf("create helper directory: %w", err)
	}
	status = h.HelperStatusPath(id)
	if err := os.Remove(status); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", "", fmt.Errorf("remove old status: %w", err)
	}
	return dir, status, nil
}
