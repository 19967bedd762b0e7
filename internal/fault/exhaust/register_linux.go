package exhaust

import "github.com/bulwarkhq/bulwark/internal/fault"

func init() {
	fault.Register(FD{})
	fault.Register(PID{})
	fault.Register(Port{})
}
