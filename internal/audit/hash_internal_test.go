package audit

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// hashedJSON is a fast path; it must equal Canonical of the hashed struct
// for any entry, including awkward strings.
func TestHashedJSONIsCanonical(t *testing.T) {
	words := []string{"", "a", "订单网关", "<&>", "\"q\"", `\`, "\n\t\x01", "\u2028", "😀", "e\u0301", "\x7f"}
	pick := func(r *rand.Rand) string {
		var sb strings.Builder
		for range r.IntN(4) {
			sb.WriteString(words[r.IntN(len(words))])
		}
		return sb.String()
	}
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		e := Entry{
			Seq: r.Int64N(1 << 53), Time: time.Unix(0, r.Int64N(1<<62)).UTC(),
			Actor:  Actor{ID: pick(r), Kind: pick(r)},
			Action: pick(r), Resource: pick(r), RequestDigest: pick(r),
			Result: Result{Status: pick(r), Reason: pick(r)},
		}
		want, err := Canonical(hashed{
			Seq: e.Seq, Time: bulwark.FormatTime(e.Time), User: e.Actor, Action: e.Action,
			Resource: e.Resource, RequestDigest: e.RequestDigest, Result: e.Result,
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := hashedJSON(&e); string(got) != string(want) {
			t.Fatalf("case %d:\n got %s\nwant %s", i, got, want)
		}
	}
}
