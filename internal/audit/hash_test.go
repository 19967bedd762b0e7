package audit_test

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/audit"
)

// GB/T 32905-2016 appendix A.
func TestSM3Vectors(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"},
		{strings.Repeat("abcd", 16), "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"},
	}
	for _, tt := range tests {
		h, err := audit.NewHash(audit.AlgSM3)
		if err != nil {
			t.Fatal(err)
		}
		h.Write([]byte(tt.in))
		if got := hex.EncodeToString(h.Sum(nil)); got != tt.want {
			t.Errorf("sm3(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestUnknownAlg(t *testing.T) {
	_, err := audit.NewHash("md5")
	if bulwark.ErrorCode(err) != bulwark.EINVALID {
		t.Fatalf("NewHash(md5) = %v, want EINVALID", err)
	}
}

func sampleEntry() audit.Entry {
	return audit.Entry{
		Seq:           2,
		Time:          time.Date(2026, 11, 26, 1, 2, 3, 4, time.FixedZone("CST", 8*3600)),
		Actor:         audit.Actor{ID: "u1", Kind: audit.ActorUser},
		Action:        "halt",
		Resource:      "env/production",
		RequestDigest: strings.Repeat("ab", 32),
		Result:        audit.Result{Status: audit.ResultError, Reason: "agent a3 <did not answer>"},
		Alg:           audit.AlgSHA256,
		PrevHash:      strings.Repeat("0f", 32),
	}
}

// The hash is written out by hand here, so that a change of the format (a
// renamed field, a different time form, HTML escaping) fails this test.
func TestComputeHashFormat(t *testing.T) {
	e := sampleEntry()
	canon := `{"action":"halt","requestDigest":"` + strings.Repeat("ab", 32) + `","resource":"env/production",` +
		`"result":{"reason":"agent a3 <did not answer>","status":"error"},"seq":2,` +
		`"time":"2026-11-25T17:02:03.000000004Z","user":{"id":"u1","kind":"user"}}`
	prev, _ := hex.DecodeString(e.PrevHash)
	sum := sha256.Sum256(append(prev, canon...))
	got, err := audit.ComputeHash(&e)
	if err != nil {
		t.Fatal(err)
	}
	if want := hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("ComputeHash = %s, want %s", got, want)
	}
	e.Alg = audit.AlgSM3
	sm, err := audit.ComputeHash(&e)
	if err != nil || sm == got || len(sm) != 64 {
		t.Fatalf("sm3 hash = %s, %v; want a different 64-hex-digit hash", sm, err)
	}
}

func TestComputeHashCoversEveryField(t *testing.T) {
	base, _ := audit.ComputeHash(ptr(sampleEntry()))
	edits := map[string]func(*audit.Entry){
		"seq":        func(e *audit.Entry) { e.Seq++ },
		"time":       func(e *audit.Entry) { e.Time = e.Time.Add(time.Nanosecond) },
		"actor id":   func(e *audit.Entry) { e.Actor.ID = "u2" },
		"actor kind": func(e *audit.Entry) { e.Actor.Kind = audit.ActorToken },
		"action":     func(e *audit.Entry) { e.Action = "halt.resume" },
		"resource":   func(e *audit.Entry) { e.Resource = "env/dr" },
		"digest":     func(e *audit.Entry) { e.RequestDigest = strings.Repeat("cd", 32) },
		"status":     func(e *audit.Entry) { e.Result.Status = audit.ResultOK },
		"reason":     func(e *audit.Entry) { e.Result.Reason = "" },
		"alg":        func(e *audit.Entry) { e.Alg = audit.AlgSM3 },
		"prev hash":  func(e *audit.Entry) { e.PrevHash = strings.Repeat("1f", 32) },
	}
	for name, edit := range edits {
		e := sampleEntry()
		edit(&e)
		if h, err := audit.ComputeHash(&e); err != nil || h == base {
			t.Errorf("editing %s left the hash %s unchanged (%v)", name, h, err)
		}
	}
}

func ptr[T any](v T) *T { return &v }
