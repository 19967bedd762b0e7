package fault

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/bulwarkhq/bulwark"
)

var (
	kindsMu sync.RWMutex
	kinds   = map[string]Kind{}
	idRE    = regexp.MustCompile(`^[a-z][a-z0-9]*\.[a-z][a-z0-9-]*$`)
)

// Register adds a kind to the registry. It panics on a malformed ID, a nil
// NewParams or a duplicate: these are programming errors found at start-up.
// The parameter schema is not parsed here (reflecting over every kind's
// params cost each command's start-up about 0.8 ms): SchemaOf reports a bad
// one as an error where the kind is used, and the test of package all
// parses every registered kind's schema.
func Register(k Kind) {
	info := k.Info()
	if !idRE.MatchString(info.ID) {
		panic(fmt.Sprintf("fault: register kind %q: id must be area.verb", info.ID))
	}
	if info.NewParams == nil {
		panic(fmt.Sprintf("fault: register kind %q: nil NewParams", info.ID))
	}
	if info.ReceiptVersion < 1 {
		panic(fmt.Sprintf("fault: register kind %q: receipt version must be at least 1", info.ID))
	}
	kindsMu.Lock()
	defer kindsMu.Unlock()
	if _, dup := kinds[info.ID]; dup {
		panic(fmt.Sprintf("fault: register kind %q twice", info.ID))
	}
	kinds[info.ID] = k
}

// Lookup returns the kind with the given ID or an EINVALID error naming the
// kinds there are.
func Lookup(id string) (Kind, error) {
	kindsMu.RLock()
	k, ok := kinds[id]
	kindsMu.RUnlock()
	if !ok {
		return nil, bulwark.Errorf(bulwark.EINVALID, "unknown fault kind %q (known: %s)", id, strings.Join(IDs(""), ", "))
	}
	return k, nil
}

// Kinds returns the registered kinds whose ID starts with prefix (for example
// "net" or "net."), sorted by ID.
func Kinds(prefix string) []Kind {
	kindsMu.RLock()
	defer kindsMu.RUnlock()
	var out []Kind
	for id, k := range kinds {
		if matchesArea(id, prefix) {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Info().ID < out[j].Info().ID })
	return out
}

// IDs returns the sorted IDs of the kinds Kinds(prefix) returns.
func IDs(prefix string) []string {
	var ids []string
	for _, k := range Kinds(prefix) {
		ids = append(ids, k.Info().ID)
	}
	return ids
}

func matchesArea(id, prefix string) bool {
	if prefix == "" {
		return true
	}
	if strings.HasSuffix(prefix, ".") {
		return strings.HasPrefix(id, prefix)
	}
	return id == prefix || strings.HasPrefix(id, prefix+".")
}

// Supports reports whether the kind runs on goos.
func (i KindInfo) Supports(goos string) bool { return slices.Contains(i.Platforms, goos) }
