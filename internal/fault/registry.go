package fault

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/bulwarkhq/bulwark"
)

var (
	kindsMu sync.RWMutex
	kinds   = map[string]Kind{}
	idRE    = regexp.MustCompile(`^[a-z][a-z0-9]*\.[a-z][a-z0-9-]*$`)
)

// Register adds a kind to the registry. It panics on a malformed ID, a nil
// NewParams, a parameter schema that does not parse, or a duplicate: these are
// programming errors found at start-up. The schema is checked only in test
// binaries (each kind registers in every test binary that links it): parsing
// every kind's schema by reflection cost each command's start-up about 0.8 ms,
// and SchemaOf reports a bad schema as an error where a kind is used anyway.
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
	if testing.Testing() {
		if _, err := SchemaOf(info.NewParams()); err != nil {
			panic(fmt.Sprintf("fault: register kind %q: %v", info.ID, err))
		}
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
