package audit_test

import (
	"testing"

	"github.com/bulwarkhq/bulwark/internal/audit"
)

func TestCanonicalize(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"sorted keys", `{"b":1,"a":2}`, `{"a":2,"b":1}`},
		{"nested and whitespace", "{ \"z\" : [ 1 , {\"y\":null,\"x\":true} ] ,\n\"a\":false }", `{"a":false,"z":[1,{"x":true,"y":null}]}`},
		{"no HTML escaping", `{"a":"<&>"}`, `{"a":"<&>"}`},
		{"non-ASCII literal", `{"a":"\u4e2d\u6587"}`, `{"a":"中文"}`},
		{"mandatory escapes only", `"\u0001\u001f\b\t\n\f\r\"\\\/\u007f"`, `"\u0001\u001f\b\t\n\f\r\"\\/` + "\x7f" + `"`},
		{"line separators stay literal", `"\u2028\u2029"`, "\"\u2028\u2029\""},
		// RFC 8785 §3.2.2.3 and appendix B number forms.
		{"numbers", `[1.0,1e2,-0,4.50,2e-3,0.000001,1e-7,1E30,333333333.33333329,0.000000000000000000000000001,1e21,-1.5]`,
			`[1,100,0,4.5,0.002,0.000001,1e-7,1e+30,333333333.3333333,1e-27,1e+21,-1.5]`},
		{"large integer as a double", `123456789012345678901`, `123456789012345680000`},
		// RFC 8785 §3.2.3: names sort by UTF-16 code units, so U+1F600
		// (a surrogate pair, D83D) sorts before U+FB33, unlike in UTF-8.
		{"UTF-16 order", `{"\u20ac":1,"\r":2,"\ufb33":3,"1":4,"\ud83d\ude00":5,"\u0080":6,"\u00f6":7}`,
			"{\"\\r\":2,\"1\":4,\"\u0080\":6,\"\u00f6\":7,\"\u20ac\":1,\"\U0001F600\":5,\"\ufb33\":3}"},
		{"empty containers", `{"a":{},"b":[]}`, `{"a":{},"b":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := audit.Canonicalize([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Canonicalize(%s)\n got %s\nwant %s", tt.in, got, tt.want)
			}
			again, err := audit.Canonicalize(got)
			if err != nil || string(again) != string(got) {
				t.Errorf("not idempotent: %s → %s (%v)", got, again, err)
			}
		})
	}
}

func TestCanonicalizeRejects(t *testing.T) {
	tests := []struct{ name, in string }{
		{"invalid UTF-8", "\"\xff\""},
		{"duplicate member", `{"a":1,"a":2}`},
		{"trailing data", `{} {}`},
		{"number out of range", `1e400`},
		{"not JSON", `{a:1}`},
		{"empty", ``},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := audit.Canonicalize([]byte(tt.in)); err == nil {
				t.Errorf("Canonicalize(%q) = %s, want an error", tt.in, got)
			}
		})
	}
}

func TestCanonicalOfStruct(t *testing.T) {
	got, err := audit.Canonical(struct {
		Z string `json:"z"`
		A int    `json:"a"`
	}{"<订单>", 7})
	if err != nil || string(got) != `{"a":7,"z":"<订单>"}` {
		t.Fatalf("Canonical = %s, %v", got, err)
	}
}

func TestDigestRequest(t *testing.T) {
	a, err := audit.DigestRequest([]byte(`{"kind":"cpu.load", "params":{"percent":60}}`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := audit.DigestRequest([]byte("{\"params\":{\"percent\":60.0},\n\"kind\":\"cpu.load\"}"))
	if a != b || a != audit.DigestBytes([]byte(`{"kind":"cpu.load","params":{"percent":60}}`)) {
		t.Errorf("equal requests digest differently: %s vs %s", a, b)
	}
	if _, err := audit.DigestRequest([]byte("kind=cpu.load")); err == nil {
		t.Error("a body that is not JSON digested without error")
	}
	if d, _ := audit.DigestRequest(nil); d != "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" {
		t.Errorf("empty body digest = %s, want SHA-256 of the empty string", d)
	}
}
