package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
)

func TestHaltStoreSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := t.TempDir() + "/b.db"
	db := sqlite.NewDB(path)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	s := sqlite.NewHaltStore(db)
	t0 := time.Date(2026, 11, 26, 1, 2, 3, 4, time.UTC)
	if err := s.PutHalt(ctx, sqlite.HaltRecord{System: "quotes", Since: t0, By: bulwark.Principal{ID: "u1", Name: "alice"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutHalt(ctx, sqlite.HaltRecord{System: "quotes", Since: t0.Add(time.Hour), By: bulwark.Principal{ID: "u2"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.PutHalt(ctx, sqlite.HaltRecord{Since: t0.Add(time.Minute), By: bulwark.Principal{ID: "u2"}}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db = sqlite.NewDB(path)
	if err := db.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s = sqlite.NewHaltStore(db)
	hs, err := s.Halts(ctx)
	if err != nil || len(hs) != 2 || hs[0].System != "quotes" || !hs[0].Since.Equal(t0) || hs[0].By.Name != "alice" {
		t.Fatalf("after reopen: %+v, %v (the second halt of quotes keeps the first's time)", hs, err)
	}
	if err := s.DeleteHalt(ctx, "quotes", ""); err != nil {
		t.Fatal(err)
	}
	if hs, _ := s.Halts(ctx); len(hs) != 1 || hs[0].System != "" {
		t.Fatalf("after delete: %+v", hs)
	}
}
