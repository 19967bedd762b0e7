package timeskew

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// timeDaemons are the comm names (15 bytes at most) of the daemons that
// step or slew the wall clock.
var timeDaemons = []string{"chronyd", "ntpd", "openntpd", "systemd-timesyn", "ptp4l", "phc2sys", "timemaster"}

// runningTimeDaemons lists "name (pid N)" for every time daemon under
// procRoot.
func runningTimeDaemons(procRoot string) ([]string, error) {
	ents, err := os.ReadDir(procRoot)
	if err != nil {
		return nil, fmt.Errorf("list processes: %w", err)
	}
	var out []string
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join(procRoot, e.Name(), "comm"))
		if err != nil {
			continue // gone meanwhile
		}
		if name := strings.TrimSpace(string(b)); slices.Contains(timeDaemons, name) {
			out = append(out, fmt.Sprintf("%s (pid %d)", name, pid))
		}
	}
	return out, nil
}
