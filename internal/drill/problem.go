package drill

import "github.com/bulwarkhq/bulwark/internal/yamldoc"

// Problem is one thing wrong with a drill file, at a position: the
// decoder's yamldoc.Problem ("file:line:col: path: message"), marked when
// it names an unknown scenario.
type Problem struct {
	yamldoc.Problem
	// UnknownScenario marks a scenario reference the library could not
	// resolve; Options.AllowUnknownScenarios turns these into warnings.
	UnknownScenario bool `json:"unknownScenario,omitempty"`
}

// Error lists every problem Parse found, sorted by position. The CLI
// prints one per line and exits 2.
type Error struct {
	Problems []Problem
}

// Error implements error: one problem per line.
func (e *Error) Error() string {
	list := make([]yamldoc.Problem, len(e.Problems))
	for i, p := range e.Problems {
		list[i] = p.Problem
	}
	return (&yamldoc.Error{Problems: list}).Error()
}
