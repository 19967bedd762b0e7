package journal_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/journal"
)

func put(t *testing.T, j *journal.Journal, id string, s bulwark.State) {
	t.Helper()
	if err := j.Put(&journal.Record{Fault: bulwark.Fault{ID: id, State: s}}); err != nil {
		t.Fatal(err)
	}
}

func TestLastRecordWins(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	j, err := journal.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	put(t, j, "a", bulwark.StateInjecting)
	put(t, j, "a", bulwark.StateActive)
	put(t, j, "b", bulwark.StateActive)
	j.Close()
	recs, seq, err := journal.Load(path)
	if err != nil || seq != 3 || recs["a"].Fault.State != bulwark.StateActive || len(recs) != 2 {
		t.Fatalf("load: %v seq=%d %+v", err, seq, recs)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("journal mode %v", st.Mode())
	}
}

func TestTornTailIgnoredAndRepaired(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	j, _ := journal.Open(path)
	put(t, j, "a", bulwark.StateActive)
	j.Close()
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"v":1,"seq":2,"fault":{"id":"a","sta`) // a crash mid-write
	f.Close()
	j, err := journal.Open(path)
	if err != nil {
		t.Fatalf("open with torn tail: %v", err)
	}
	if r, _ := j.Get("a"); r.Fault.State != bulwark.StateActive {
		t.Fatalf("state %s", r.Fault.State)
	}
	put(t, j, "a", bulwark.StateRecovered)
	j.Close()
	// The torn line is now in the middle: it must be reported, not guessed at.
	if _, _, err := journal.Load(path); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Fatalf("damaged middle line: %v", err)
	}
}

func TestNewerFormatRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	os.WriteFile(path, []byte(`{"v":99,"seq":1,"fault":{"id":"a"}}`+"\n"), 0o600)
	if _, err := journal.Open(path); !errors.Is(err, bulwark.ErrNewerReceipt) {
		t.Fatalf("newer format: %v", err)
	}
}

func TestCompactKeepsLiveAndNewestEnded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "j")
	j, _ := journal.Open(path)
	put(t, j, "01", bulwark.StateRecovered)
	put(t, j, "02", bulwark.StateRecovered)
	put(t, j, "03", bulwark.StateActive)
	put(t, j, "03", bulwark.StateStuck)
	put(t, j, "04", bulwark.StateFailed)
	if err := j.Compact(1); err != nil {
		t.Fatal(err)
	}
	put(t, j, "05", bulwark.StateActive)
	j.Close()
	recs, _, err := journal.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for id := range recs {
		ids = append(ids, id)
	}
	if len(recs) != 3 || recs["03"] == nil || recs["04"] == nil || recs["05"] == nil {
		t.Fatalf("after compact: %v", ids)
	}
}
