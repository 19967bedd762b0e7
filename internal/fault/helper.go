package fault

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// HelperFunc is the body of a helper process: a kind re-executes the bulwark
// binary as `bulwark helper NAME ARGS…` to hold an effect that lives in a
// process (CPU burn, filled memory, an occupied port). A helper must exit by
// itself at the absolute deadline it is given, whatever else happens.
type HelperFunc func(ctx context.Context, args []string) error

var (
	helpersMu sync.RWMutex
	helpers   = map[string]HelperFunc{}
)

// RegisterHelper adds a helper entry point. It panics on a duplicate name.
func RegisterHelper(name string, fn HelperFunc) {
	helpersMu.Lock()
	defer helpersMu.Unlock()
	if _, dup := helpers[name]; dup || name == "" || fn == nil {
		panic(fmt.Sprintf("fault: register helper %q: duplicate, empty or nil", name))
	}
	helpers[name] = fn
}

// LookupHelper returns the helper registered under name.
func LookupHelper(name string) (HelperFunc, error) {
	helpersMu.RLock()
	defer helpersMu.RUnlock()
	fn, ok := helpers[name]
	if !ok {
		return nil, fmt.Errorf("no helper %q", name)
	}
	return fn, nil
}

// Helpers returns the sorted names of the registered helpers.
func Helpers() []string {
	helpersMu.RLock()
	defer helpersMu.RUnlock()
	var names []string
	for n := range helpers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}
