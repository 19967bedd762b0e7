package script

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// Bounds on the parameters.
const (
	maxArgs     = 256
	maxArgBytes = 4096
	minTimeout  = time.Second
	maxTimeout  = 10 * time.Minute
)

// Params are the parameters of script.run. Each command is a JSON array of
// strings: argv[0] is the executable's absolute path (no PATH look-up), the
// rest are its arguments, passed as they are.
type Params struct {
	Inject    string           `param:"inject,required" help:"the inject command as a JSON array, argv[0] an absolute path: [\"/opt/drills/feed\",\"stop\",\"--venue=XSHG\"]; never run through a shell"`
	Recover   string           `param:"recover,required" help:"the recover command as a JSON array, run at recover and at expiry; recorded in the receipt at inject"`
	AllowList string           `param:"allow-list" help:"allow-list file (sha256sum format: \"SHA256  /abs/path\" a line); default $BULWARK_ALLOW_LIST, else <state-dir>/allow-list"`
	Timeout   bulwark.Duration `param:"timeout" default:"30s" unit:"duration" help:"how long each command may run before its process group is killed (1s to 10m)"`
}

// Validate parses both commands and checks the timeout.
func (p *Params) Validate() error {
	if _, _, err := p.Argv(); err != nil {
		return err
	}
	if d := p.Timeout.Std(); d < minTimeout || d > maxTimeout {
		return &fault.ParamError{Param: "timeout", Message: fmt.Sprintf("%s is out of range (%s to %s)", d, minTimeout, maxTimeout)}
	}
	if p.AllowList != "" && (!filepath.IsAbs(p.AllowList) || filepath.Clean(p.AllowList) != p.AllowList) {
		return &fault.ParamError{Param: "allow-list", Message: fmt.Sprintf("%q must be an absolute, clean path", p.AllowList)}
	}
	return nil
}

// Argv parses the inject and recover commands.
func (p *Params) Argv() (inject, recover []string, err error) {
	if inject, err = parseArgv("inject", p.Inject); err != nil {
		return nil, nil, err
	}
	if recover, err = parseArgv("recover", p.Recover); err != nil {
		return nil, nil, err
	}
	return inject, recover, nil
}

// parseArgv decodes a JSON array of strings into an argv.
func parseArgv(param, text string) ([]string, error) {
	var argv []string
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&argv); err != nil || dec.More() {
		return nil, &fault.ParamError{Param: param, Message: `want a JSON array of strings, such as ["/usr/local/bin/tool","--flag","value"]`}
	}
	switch {
	case len(argv) == 0:
		return nil, &fault.ParamError{Param: param, Message: "empty command"}
	case len(argv) > maxArgs:
		return nil, &fault.ParamError{Param: param, Message: fmt.Sprintf("%d arguments is more than %d", len(argv), maxArgs)}
	case !filepath.IsAbs(argv[0]) || filepath.Clean(argv[0]) != argv[0]:
		return nil, &fault.ParamError{Param: param, Message: fmt.Sprintf("%q must be an absolute, clean path (no PATH look-up)", argv[0])}
	}
	for i, a := range argv {
		if strings.IndexByte(a, 0) >= 0 {
			return nil, &fault.ParamError{Param: param, Message: fmt.Sprintf("argument %d holds a NUL byte", i)}
		}
		if len(a) > maxArgBytes {
			return nil, &fault.ParamError{Param: param, Message: fmt.Sprintf("argument %d is longer than %d bytes", i, maxArgBytes)}
		}
	}
	return argv, nil
}
