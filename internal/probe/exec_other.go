//go:build !linux

package probe

import (
	"context"
	"os/exec"
)

// checkedCommand checks the SHA-256 of the file at argv[0] and returns a
// command that runs that path. Without /proc/self/fd the file is hashed by
// path immediately before the exec, which leaves a short window in which the
// path could be replaced; see the package documentation.
func checkedCommand(ctx context.Context, list *AllowList, argv []string) (*exec.Cmd, func(), error) {
	if err := list.checkPath(argv[0]); err != nil {
		return nil, nil, err
	}
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	return cmd, func() {}, nil
}
