package process

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// maxServiceTimeout bounds --timeout.
const maxServiceTimeout = 10 * time.Minute

// ServiceParams are the parameters of service.stop.
type ServiceParams struct {
	Unit    string           `param:"unit,required,target" help:"the systemd service to stop (name or name.service; an instance as name@instance)"`
	Timeout bulwark.Duration `param:"timeout" default:"90s" help:"how long to wait for the unit to stop, and on recovery to start (at most 10m)"`
}

// unitRE is a systemd service name: letters, digits and :_.\- with an
// optional @instance. No slash, space or shell character can pass.
var unitRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^[A-Za-z0-9:_.\\-]+(@[A-Za-z0-9:_.\\-]+)?\.service$`)
})

// deniedUnits are services never stopped: the way in (SSH), the system bus
// and the journal (systemd and bulwark need them), and login.
var deniedUnits = []string{"ssh", "sshd", "dbus", "dbus-broker", "systemd-journald", "systemd-logind", "systemd", "init"}

// otherUnitTypes are the unit suffixes service.stop refuses.
var otherUnitTypes = []string{".socket", ".target", ".timer", ".mount", ".automount", ".path", ".slice", ".scope", ".device", ".swap"}

// Validate normalizes the unit name (adding .service) and refuses names that
// are not a concrete service.
func (p *ServiceParams) Validate() error {
	u := p.Unit
	for _, t := range otherUnitTypes {
		if strings.HasSuffix(u, t) {
			return &fault.ParamError{Param: "unit", Message: fmt.Sprintf("%q is a %s unit; service.stop stops services only", p.Unit, strings.TrimPrefix(t, "."))}
		}
	}
	if !strings.HasSuffix(u, ".service") {
		u += ".service"
	}
	switch {
	case len(u) > 255:
		return &fault.ParamError{Param: "unit", Message: "is longer than 255 characters"}
	case strings.HasSuffix(u, "@.service"):
		return &fault.ParamError{Param: "unit", Message: fmt.Sprintf("%q is a template; name an instance (name@instance.service)", p.Unit)}
	case !unitRE().MatchString(u):
		return &fault.ParamError{Param: "unit", Message: fmt.Sprintf("%q is not a service unit name (letters, digits and :_.\\- with an optional @instance, ending .service)", p.Unit)}
	case p.Timeout <= 0 || time.Duration(p.Timeout) > maxServiceTimeout:
		return &fault.ParamError{Param: "timeout", Message: fmt.Sprintf("%s is out of range (more than 0, at most %s)", time.Duration(p.Timeout), maxServiceTimeout)}
	}
	p.Unit = u
	return nil
}

// checkUnitDenied refuses the units never stopped: the fixed list, any
// bulwark unit, and units named like a process on the host's deny-list.
func checkUnitDenied(h *fault.Host, unit string) error {
	base := strings.TrimSuffix(unit, ".service")
	if i := strings.IndexByte(base, '@'); i >= 0 {
		base = base[:i]
	}
	if slices.Contains(deniedUnits, base) || strings.HasPrefix(base, "bulwark") || slices.Contains(h.DenyProcesses, base) {
		return &fault.ParamError{Param: "unit", Message: fmt.Sprintf("%s is on the deny-list of services that are never stopped", unit)}
	}
	return nil
}

var _ fault.Validator = (*ServiceParams)(nil)
