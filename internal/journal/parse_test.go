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
	fast, fseq, ok := parseLatest(b)
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
		if _, _, ok := parseLatest([]byte(text + "\n")); ok {
			t.Errorf("%s: fast path accepted %q", name, strings.TrimSpace(text))
		}
	}
}
