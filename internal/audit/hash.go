package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"sort"
	"strconv"
	"sync"
	"unicode/utf8"

	"github.com/emmansun/gmsm/sm3"

	"github.com/bulwarkhq/bulwark"
)

// Hash algorithm ids stored with every entry.
const (
	AlgSHA256  = "sha256" // FIPS 180-4, the default
	AlgSM3     = "sm3"    // GB/T 32905-2016, the Chinese national standard
	DefaultAlg = AlgSHA256
)

var (
	algMu sync.RWMutex
	algs  = map[string]func() hash.Hash{
		AlgSHA256: sha256.New,
		AlgSM3:    sm3.New,
	}
)

// RegisterAlg makes a hash algorithm available under id. It panics on an
// empty id, a nil constructor or an id already registered.
func RegisterAlg(id string, newHash func() hash.Hash) {
	algMu.Lock()
	defer algMu.Unlock()
	if id == "" || newHash == nil {
		panic("audit: RegisterAlg with an empty id or nil constructor")
	}
	if _, dup := algs[id]; dup {
		panic("audit: RegisterAlg called twice for " + id)
	}
	algs[id] = newHash
}

// Algs returns the registered algorithm ids, sorted.
func Algs() []string {
	algMu.RLock()
	defer algMu.RUnlock()
	ids := make([]string, 0, len(algs))
	for id := range algs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// NewHash returns a new hash.Hash for the algorithm id, or EINVALID.
func NewHash(id string) (hash.Hash, error) {
	algMu.RLock()
	f, ok := algs[id]
	algMu.RUnlock()
	if !ok {
		return nil, bulwark.Errorf(bulwark.EINVALID, "audit: unknown hash algorithm %q (known: %v)", id, Algs())
	}
	return f(), nil
}

// ComputeHash returns the hash e should carry: H(prev ‖ canonical JSON of
// e's hashed fields) in hex, where H is e.Alg and prev is the bytes of
// e.PrevHash. It reads e.Seq, e.Time and the caller's fields, not e.Hash.
func ComputeHash(e *Entry) (string, error) {
	h, err := NewHash(e.Alg)
	if err != nil {
		return "", err
	}
	prev, err := hex.DecodeString(e.PrevHash)
	if err != nil {
		return "", fmt.Errorf("prev hash %q is not hex: %w", e.PrevHash, err)
	}
	if !utf8.ValidString(e.Actor.ID + e.Actor.Kind + e.Action + e.Resource + e.RequestDigest + e.Result.Status + e.Result.Reason) {
		return "", bulwark.Errorf(bulwark.EINVALID, "audit entry %d: a field is not valid UTF-8", e.Seq)
	}
	h.Write(prev)
	h.Write(hashedJSON(e))
	return hex.EncodeToString(h.Sum(nil)), nil
}

// hashedJSON writes the canonical JSON of e's hashed fields directly, with
// the members already in canonical order; it equals Canonical of the
// hashed struct (a test holds it to that) without a marshal and a parse.
func hashedJSON(e *Entry) []byte {
	var b bytes.Buffer
	b.Grow(256)
	b.WriteString(`{"action":`)
	writeString(&b, e.Action)
	b.WriteString(`,"requestDigest":`)
	writeString(&b, e.RequestDigest)
	b.WriteString(`,"resource":`)
	writeString(&b, e.Resource)
	b.WriteString(`,"result":{`)
	if e.Result.Reason != "" {
		b.WriteString(`"reason":`)
		writeString(&b, e.Result.Reason)
		b.WriteByte(',')
	}
	b.WriteString(`"status":`)
	writeString(&b, e.Result.Status)
	b.WriteString(`},"seq":`)
	b.WriteString(strconv.FormatInt(e.Seq, 10))
	b.WriteString(`,"time":"`)
	b.WriteString(bulwark.FormatTime(e.Time))
	b.WriteString(`","user":{"id":`)
	writeString(&b, e.Actor.ID)
	b.WriteString(`,"kind":`)
	writeString(&b, e.Actor.Kind)
	b.WriteString(`}}`)
	return b.Bytes()
}
