package journal

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestValidJSONAgreesWithEncodingJSON compares validJSON with json.Valid on
// hand-picked inputs and on random mutations of journal-like lines.
func TestValidJSONAgreesWithEncodingJSON(t *testing.T) {
	cases := []string{
		``, ` `, `{}`, `[]`, `""`, `0`, `-0`, `01`, `-`, `1.`, `1.5`, `1e`, `1e+`, `1E-7`, `.5`, `+1`,
		`true`, `tru`, `nul`, `null `, ` {"a":1} `, `{"a":1,}`, `{"a" 1}`, `{,}`, `[1,]`, `[,1]`, `[1 2]`,
		`{"a":{"b":[1,2,{"c":null}]}}`, `"\u00e9\n\"\\\/"`, `"\u12"`, `"\x"`, "\"a\tb\"", "\"\xff\xfe\"",
		`{"a":1}{}`, `{"a":1}x`, `[` + strings.Repeat(`[`, 10000) + strings.Repeat(`]`, 10000) + `]`,
		strings.Repeat(`[`, 10000) + strings.Repeat(`]`, 10000), "\"\x7f\"", `"é"`, `{"a":-01}`, `{"a":tRue}`,
	}
	line := `{"v":1,"seq":335,"fault":{"id":"01a219ff-bfbb","kind":"process.hang","params":{"max-matches":"10","pid":"16228"},` +
		`"state":"recovered","duration":"1m0s","evidence":[{"ok":true,"detail":"pid 16228 (sleep) \u003c 39µs \"x\""}]},` +
		`"receipt":{"version":1,"netns":{"inode":4026531833},"data":{"procs":[{"pid":16228,"f":-1.5e3,"n":null,"b":false}]}},"deadlineBoot":3259066143973}`
	cases = append(cases, line)
	alphabet := []byte("{}[]\",:\\u0123456789abcdefE.-+ \t\n\r\x01\x1ftruefalsenull\xff")
	rng := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		b := []byte(line)
		for range 1 + rng.IntN(3) {
			i := rng.IntN(len(b))
			switch rng.IntN(3) {
			case 0:
				b[i] = alphabet[rng.IntN(len(alphabet))]
			case 1:
				b = append(b[:i], b[i+1:]...)
			default:
				b = append(b[:i], append([]byte{alphabet[rng.IntN(len(alphabet))]}, b[i:]...)...)
			}
		}
		if rng.IntN(4) == 0 {
			b = b[:rng.IntN(len(b)+1)]
		}
		cases = append(cases, string(b))
	}
	agreeValid, agreeInvalid := 0, 0
	for _, c := range cases {
		want := json.Valid([]byte(c))
		if got := validJSON([]byte(c)); got != want {
			t.Fatalf("validJSON(%q) = %v, json.Valid %v", c, got, want)
		}
		if want {
			agreeValid++
		} else {
			agreeInvalid++
		}
	}
	t.Logf("%d valid and %d invalid inputs agree", agreeValid, agreeInvalid)
}
