//go:build linux

package nft

import (
	"bytes"
	"fmt"
	"slices"
)

// Compare returns how the table read back differs from its description, one
// line per difference; none means they are the same. Element timeouts are
// compared by presence: an element that should expire must have a timeout,
// and one that should not must have none. Counters are not compared.
func Compare(want *Table, got *State) []string {
	if got == nil {
		return []string{fmt.Sprintf("table %s %s is missing", FamilyName(want.Family), want.Name)}
	}
	diffs := compareSets(want.Sets, got.Sets)
	return append(diffs, compareChains(want.Chains, got.Chains)...)
}

func compareSets(want []Set, got []SetState) []string {
	var diffs []string
	seen := map[string]bool{}
	for _, w := range want {
		seen[w.Name] = true
		i := slices.IndexFunc(got, func(g SetState) bool { return g.Name == w.Name })
		if i < 0 {
			diffs = append(diffs, "set "+w.Name+" is missing")
			continue
		}
		diffs = append(diffs, compareSet(w, got[i])...)
	}
	for _, g := range got {
		if !seen[g.Name] {
			diffs = append(diffs, "set "+g.Name+" was added")
		}
	}
	return diffs
}

func compareSet(w Set, g SetState) []string {
	var diffs []string
	if g.Key != w.Key || g.Interval != w.Interval || g.Constant != w.Constant || g.HasTimeout != (w.Timeout > 0) {
		diffs = append(diffs, fmt.Sprintf("set %s is %s interval=%t constant=%t timeout=%t, want %s interval=%t constant=%t timeout=%t",
			w.Name, g.Key, g.Interval, g.Constant, g.HasTimeout, w.Key, w.Interval, w.Constant, w.Timeout > 0))
	}
	elems, err := w.elements()
	if err != nil {
		return append(diffs, fmt.Sprintf("set %s: %v", w.Name, err))
	}
	want := make([]Element, 0, len(elems))
	for _, e := range elems {
		want = append(want, Element{Key: e.Key, End: e.IntervalEnd, Timeout: e.Timeout})
	}
	sortElements(want)
	if !sameElements(want, g.Elements) {
		wantState := SetState{Key: w.Key, Interval: w.Interval, Elements: want}
		diffs = append(diffs, fmt.Sprintf("set %s holds %v, want %v", w.Name, g.ElementRanges(), wantState.ElementRanges()))
	}
	return diffs
}

func sameElements(want, got []Element) bool {
	return slices.EqualFunc(want, got, func(w, g Element) bool {
		return bytes.Equal(w.Key, g.Key) && w.End == g.End && (w.Timeout > 0) == (g.Timeout > 0)
	})
}

func compareChains(want []Chain, got []ChainState) []string {
	var diffs []string
	seen := map[string]bool{}
	for _, w := range want {
		seen[w.Name] = true
		i := slices.IndexFunc(got, func(g ChainState) bool { return g.Name == w.Name })
		if i < 0 {
			diffs = append(diffs, "chain "+w.Name+" is missing")
			continue
		}
		diffs = append(diffs, compareChain(w, got[i])...)
	}
	for _, g := range got {
		if !seen[g.Name] {
			diffs = append(diffs, "chain "+g.Name+" was added")
		}
	}
	return diffs
}

func compareChain(w Chain, g ChainState) []string {
	var diffs []string
	if !g.Base || g.Hook != w.Hook || g.Priority != w.Priority || !g.Accept {
		diffs = append(diffs, fmt.Sprintf("chain %s is base=%t hook %d priority %d accept=%t, want hook %d priority %d accept",
			w.Name, g.Base, g.Hook, int32(g.Priority), g.Accept, w.Hook, int32(w.Priority)))
	}
	for i := range max(len(w.Rules), len(g.Rules)) {
		switch {
		case i >= len(g.Rules):
			diffs = append(diffs, fmt.Sprintf("chain %s rule %d is missing: %s", w.Name, i+1, Render(w.Rules[i].Exprs)))
		case i >= len(w.Rules):
			diffs = append(diffs, fmt.Sprintf("chain %s rule %d was added: %s", w.Name, i+1, g.Rules[i].Text))
		case Render(w.Rules[i].Exprs) != g.Rules[i].Text:
			diffs = append(diffs, fmt.Sprintf("chain %s rule %d is %q, want %q", w.Name, i+1, g.Rules[i].Text, Render(w.Rules[i].Exprs)))
		}
	}
	return diffs
}
