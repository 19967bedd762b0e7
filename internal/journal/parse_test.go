package journal

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// TestParseLatestAgreesWithParseEvery checks the fast path of load against
// decoding every line, on a journal Put wrote, and that it steps aside for
// lines of another shape.
func TestParseLatestAgreesWithParseEvery(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"01a", "01b", "01c"} {
		for _, s := range []bulwark.State{bulwark.StateInjecting, bulwark.StateActive, bulwark.StateRecovering, bulwark.StateRecovered} {
			r := &Record{Fault: bulwark.Fault{ID: id, Kind: "process.hang", State: s, Params: map[string]string{"state": `"state":"x"`}},
				Receipt: &fault.Receipt{Kind: "process.hang", Version: 1, Resource: "pid:1"}, BootID: "b"}
			if err := j.Put(r); err != nil {
				t.Fatal(err)
			}
			if s == bulwark.StateActive && id == "01b" {
				break
			}
		}
	}
	j.Close()
	b, _ := os.ReadFile(path)
	fast, _, fseq, ok := parseLatest(b, false)
	if !ok {
		t.Fatal("fast path refused a journal Put wrote")
	}
	slow, sseq, err := parseEvery(path, b)
	if err != nil || fseq != sseq || !reflect.DeepEqual(fast, slow) {
		t.Fatalf("fast %v seq %d, slow %v seq %d err %v", fast, fseq, slow, sseq, err)
	}
	if fast["01b"].Fault.State != bulwark.StateActive || fast["01a"].Fault.State != bulwark.StateRecovered {
		t.Fatalf("states %s %s", fast["01b"].Fault.State, fast["01a"].Fault.State)
	}
	for name, text := range map[string]string{
		"escaped id":  `{"v":1,"seq":1,"fault":{"id":"a\u003cb"}}`,
		"field order": `{"seq":1,"v":1,"fault":{"id":"a"}}`,
		"newer":       `{"v":2,"seq":1,"fault":{"id":"a"}}`,
		"torn":        `{"v":1,"seq":1,"fault":{"id":"a"`,
		"id twice":    `{"v":1,"seq":1,"fault":{"id":"a","id":"b"}}`,
		"type":        `{"v":1,"seq":1,"fault":{"id":"a","state":7}}`,
		"blank line":  "\n" + `{"v":1,"seq":1,"fault":{"id":"a"}}`,
	} {
		if _, _, _, ok := parseLatest([]byte(text+"\n"), true); ok {
			t.Errorf("%s: fast path accepted %q", name, strings.TrimSpace(text))
		}
	}
}

// TestEndedDecodedOnUse checks that Open leaves ended faults undecoded until
// they are asked for, that Live, Get and Records see what decoding every line
// sees, and that endedState never takes a live fault for an ended one.
func TestEndedDecodedOnUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	j, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]bulwark.State{
		"01a": bulwark.StateRecovered, "01b": bulwark.StateActive, "01c": bulwark.StateFailed,
		"01d": bulwark.StateStuck, "01e": bulwark.StateRecovering, "01f": bulwark.StateInjecting,
	}
	for id, s := range states {
		for _, st := range []bulwark.State{bulwark.StateInjecting, s} {
			r := &Record{Fault: bulwark.Fault{ID: id, Kind: "file.corrupt", State: st,
				Params: map[string]string{"path": `/tmp/a "b" \c`, "x": "}"}, Target: map[string]string{"host": "h"}}}
			if err := j.Put(r); err != nil {
				t.Fatal(err)
			}
		}
	}
	j.Close()
	want, _, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	j, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if len(j.ended) != 2 || j.ended["01a"] == nil || j.ended["01c"] == nil {
		t.Fatalf("undecoded ended faults: %d", len(j.ended))
	}
	var live []string
	for _, r := range j.Live() {
		live = append(live, r.Fault.ID)
	}
	if strings.Join(live, ",") != "01f,01e,01d,01b" {
		t.Fatalf("live %v", live)
	}
	if l, err := LoadLive(path); err != nil || len(l) != 4 {
		t.Fatalf("LoadLive: %d records, %v", len(l), err)
	}
	if r, ok := j.Get("01a"); !ok || !reflect.DeepEqual(r, want["01a"]) {
		t.Fatalf("get ended: %+v", r)
	}
	got := map[string]*Record{}
	for _, r := range j.Records() {
		got[r.Fault.ID] = r
	}
	if !reflect.DeepEqual(got, want) || len(j.ended) != 0 {
		t.Fatalf("records differ from Load")
	}
	for _, line := range []string{
		`{"v":1,"seq":1,"fault":{"id":"a","kind":"k","params":{"state":"recovered"},"state":"active"}}`,
		`{"v":1,"seq":1,"fault":{"id":"a","kind":"k","params":null,"state":"active","evidence":[{"state":"recovered"}]}}`,
		`{"v":1,"seq":1,"fault":{"id":"a","kind":"k","params":{},"state":"active"}}`,
		`{"v":1,"seq":1,"fault":{"id":"a","kind":"k","state":"recovered"}}`,
		`{"v":1,"seq":1,"fault":{"id":"a","kind":"k","params":{"a":"\"},\"state\":\"recovered"},"state":"stuck"}}`,
	} {
		if endedState([]byte(line)) {
			t.Errorf("taken for ended: %s", line)
		}
	}
	if !endedState([]byte(`{"v":1,"seq":1,"fault":{"id":"a","kind":"k","params":{"a":"\"},"},"target":{},"state":"recovered"}}`)) {
		t.Error("an ended fault with escapes in its params not recognised")
	}
}
