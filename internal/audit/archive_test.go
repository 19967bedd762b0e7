package audit_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/audit"
	"github.com/bulwarkhq/bulwark/internal/audit/audittest"
)

func archive(t *testing.T, f *fixture, from, to int64) string {
	t.Helper()
	var b bytes.Buffer
	if err := audit.Archive(context.Background(), f.store, from, to, &b); err != nil {
		t.Fatalf("Archive %d..%d: %v", from, to, err)
	}
	return b.String()
}

func verifyArchive(t *testing.T, f *fixture, text string) audit.Report {
	t.Helper()
	rep, err := audit.VerifyArchive(strings.NewReader(text), audit.VerifyOptions{PublicKey: f.key.Public().(ed25519.PublicKey)})
	if err != nil {
		t.Fatalf("VerifyArchive: %v", err)
	}
	return rep
}

func TestArchive(t *testing.T) {
	f := newFixture(t)
	record(t, f.log(10), 1, 25)
	for _, r := range [][2]int64{{1, 20}, {11, 20}, {1, 10}} {
		text := archive(t, f, r[0], r[1])
		rep := verifyArchive(t, f, text)
		if !rep.OK || rep.Entries != r[1]-r[0]+1 || rep.Checkpoints < 1 {
			t.Errorf("archive %d..%d: %+v", r[0], r[1], rep)
		}
	}
	err := audit.Archive(context.Background(), f.store, 1, 15, &bytes.Buffer{})
	if bulwark.ErrorCode(err) != bulwark.EINVALID || !strings.Contains(err.Error(), "nearest are 10 and 20") {
		t.Fatalf("archive ending between checkpoints: %v", err)
	}
	if n := len(audittest.All(t, f.store)); n != 25 {
		t.Fatalf("archiving removed entries: %d left, want 25", n)
	}
}

func TestVerifyArchiveDetects(t *testing.T) {
	f := newFixture(t)
	record(t, f.log(10), 1, 20)
	text := archive(t, f, 1, 20)
	lines := strings.SplitAfter(text, "\n")

	edited := strings.Replace(text, `"resource":"fault/7"`, `"resource":"fault/x"`, 1)
	if rep := verifyArchive(t, f, edited); rep.OK || rep.FirstBadSeq != 7 {
		t.Errorf("edited entry: %+v", rep)
	}
	withoutLast := strings.Join(append(append([]string{}, lines[:19]...), lines[20:]...), "")
	if rep := verifyArchive(t, f, withoutLast); rep.OK || rep.FirstBadSeq != 20 {
		t.Errorf("last entry dropped: %+v", rep)
	}
	withoutFifth := strings.Join(append(append([]string{}, lines[:4]...), lines[5:]...), "")
	if rep := verifyArchive(t, f, withoutFifth); rep.OK || rep.FirstBadSeq != 5 {
		t.Errorf("entry 5 dropped: %+v", rep)
	}
	if _, err := audit.VerifyArchive(strings.NewReader("{\"entry\":1}\n"), audit.VerifyOptions{}); bulwark.ErrorCode(err) != bulwark.EINVALID {
		t.Errorf("malformed archive: %v", err)
	}
}
