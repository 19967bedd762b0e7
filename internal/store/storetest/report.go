package storetest

import (
	"context"
	"testing"

	"github.com/bulwarkhq/bulwark"
)

func testReports(t *testing.T, newStore NewStore) {
	ctx := context.Background()
	s := newStore(t)
	r := mustCreateRun(t, s, newRun("r"))

	zh := &bulwark.Report{RunID: r.ID, Format: bulwark.ReportHTML, Lang: "zh-CN",
		Body: []byte("<h1>演练报告</h1>"), Path: "/tmp/r.zh.html", CreatedAt: at(0)}
	en := &bulwark.Report{RunID: r.ID, Format: bulwark.ReportHTML, Lang: "en", Body: []byte("<h1>Report</h1>")}
	junit := &bulwark.Report{RunID: r.ID, Format: bulwark.ReportJUnit, Body: []byte("<testsuites/>")}
	for _, rep := range []*bulwark.Report{zh, en, junit} {
		if err := s.PutReport(ctx, rep); err != nil {
			t.Fatalf("PutReport %s %s: %v", rep.Format, rep.Lang, err)
		}
	}
	if en.CreatedAt.IsZero() {
		t.Errorf("PutReport did not set CreatedAt")
	}

	check := func(t *testing.T, want *bulwark.Report) {
		t.Helper()
		got, err := s.Report(ctx, want.RunID, want.Format, want.Lang)
		if err != nil {
			t.Fatal(err)
		}
		w := *want
		w.CreatedAt = w.CreatedAt.UTC()
		if d := diff(&w, got); d != "" {
			t.Errorf("Report (-want +got):\n%s", d)
		}
	}
	t.Run("Get", func(t *testing.T) {
		for _, rep := range []*bulwark.Report{zh, en, junit} {
			check(t, rep)
		}
	})

	t.Run("Replace", func(t *testing.T) {
		again := &bulwark.Report{RunID: r.ID, Format: bulwark.ReportHTML, Lang: "en",
			Body: []byte("<h1>Report v2</h1>"), CreatedAt: at(1)}
		if err := s.PutReport(ctx, again); err != nil {
			t.Fatal(err)
		}
		check(t, again)
		check(t, zh) // the other language is untouched
	})

	for _, tc := range []struct {
		name   string
		runID  string
		format bulwark.ReportFormat
		lang   string
	}{
		{"OtherLang", r.ID, bulwark.ReportMarkdown, "en"},
		{"MissingLang", r.ID, bulwark.ReportHTML, "fr"},
		{"UnknownRun", bulwark.NewID(), bulwark.ReportHTML, "en"},
	} {
		t.Run("NotFound/"+tc.name, func(t *testing.T) {
			_, err := s.Report(ctx, tc.runID, tc.format, tc.lang)
			wantCode(t, err, bulwark.ENOTFOUND)
		})
	}

	t.Run("PutUnknownRun", func(t *testing.T) {
		err := s.PutReport(ctx, &bulwark.Report{RunID: bulwark.NewID(), Format: bulwark.ReportJSON, Lang: "en", Body: []byte("{}")})
		wantCode(t, err, bulwark.ENOTFOUND)
	})
	t.Run("PutBadFormat", func(t *testing.T) {
		err := s.PutReport(ctx, &bulwark.Report{RunID: r.ID, Format: "pdf", Lang: "en"})
		wantCode(t, err, bulwark.EINVALID)
	})
}
