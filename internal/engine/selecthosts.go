package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/bulwarkhq/bulwark"
)

// PlanError is a selection the drill may not make: more hosts than its
// blast radius, or fewer than count:N asks for. It is found before anything
// is injected; the CLI exits 2 for the first and 3 for the second.
type PlanError struct {
	Field   string
	Message string
	// OverBlastRadius is true when the selection is refused by the limit.
	OverBlastRadius bool
}

func (e *PlanError) Error() string { return e.Field + ": " + e.Message }

// selectHosts picks the hosts a selector names, once per run (contract 1):
// all of them, count:N uniformly at random with the run's seed, or
// percent:P (ceil(P·M/100), at least 1).
func selectHosts(all []Host, sel bulwark.Selector, rng *rand.Rand, field string) ([]Host, error) {
	if err := sel.Validate(); err != nil {
		return nil, &PlanError{Field: field, Message: bulwark.ErrorMessage(err)}
	}
	var match []Host
	for _, h := range all {
		if labelsMatch(h.Labels, sel.Labels) {
			match = append(match, h)
		}
	}
	sort.Slice(match, func(i, j int) bool { return match[i].Name < match[j].Name })
	mode, n, _ := sel.Mode.Parse()
	want := len(match)
	switch mode {
	case "count":
		want = int(n)
	case "percent":
		want = max(1, int(math.Ceil(n*float64(len(match))/100)))
	}
	if len(match) == 0 || want > len(match) {
		return nil, &PlanError{Field: field, Message: fmt.Sprintf("selector %v matches %d hosts, %d needed", sel.Labels, len(match), max(want, 1))}
	}
	rng.Shuffle(len(match), func(i, j int) { match[i], match[j] = match[j], match[i] })
	picked := match[:want]
	sort.Slice(picked, func(i, j int) bool { return picked[i].Name < picked[j].Name })
	return picked, nil
}

func labelsMatch(have, want map[string]string) bool {
	for k, v := range want {
		if have[k] != v {
			return false
		}
	}
	return true
}
