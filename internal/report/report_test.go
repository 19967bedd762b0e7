package report_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// render renders the fixture (or in) in Shanghai time.
func render(t *testing.T, in *report.Input, f bulwark.ReportFormat, lang string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := report.Render(&buf, in, f, lang); err != nil {
		t.Fatalf("render %s %s: %v", f, lang, err)
	}
	return buf.String()
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file; run go test -update and review the diff\n--- got ---\n%s", name, got)
	}
}

func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		name   string
		format bulwark.ReportFormat
		lang   string
	}{
		{"report.json", bulwark.ReportJSON, ""},
		{"report.zh-CN.md", bulwark.ReportMarkdown, "zh-CN"},
		{"report.en.md", bulwark.ReportMarkdown, "en"},
		{"junit.xml", bulwark.ReportJUnit, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name, render(t, fixture(), tc.format, tc.lang))
		})
	}
}

func TestJSONIsLanguageNeutral(t *testing.T) {
	if a, b := render(t, fixture(), bulwark.ReportJSON, "zh-CN"), render(t, fixture(), bulwark.ReportJSON, "en"); a != b {
		t.Error("JSON differs between languages")
	}
}

func TestNotDetectedIsNeverZero(t *testing.T) {
	for lang, word := range map[string]string{"zh-CN": "| 确认时间（MTTA） | 未检测到 |", "en": "| time to acknowledge (MTTA) | not detected |"} {
		if md := render(t, fixture(), bulwark.ReportMarkdown, lang); !strings.Contains(md, word) {
			t.Errorf("%s: no %q", lang, word)
		}
	}
	if js := render(t, fixture(), bulwark.ReportJSON, ""); !strings.Contains(js, `"mtta": null`) {
		t.Error(`json: no "mtta": null`)
	}
}

func TestMTTDSourceNote(t *testing.T) {
	in := fixture()
	in.MTTDSource = bulwark.MTTDFromProbe
	for lang, note := range map[string]string{"zh-CN": "未配置告警源", "en": "No alert source was configured"} {
		if md := render(t, in, bulwark.ReportMarkdown, lang); !strings.Contains(md, note) {
			t.Errorf("%s: the probe stand-in is not said", lang)
		}
	}
}

func TestLanguages(t *testing.T) {
	for _, tc := range []struct {
		format  bulwark.ReportFormat
		lang    string
		wantErr bool
	}{
		{bulwark.ReportMarkdown, "zh-CN", false},
		{bulwark.ReportMarkdown, "zh-cn", false},
		{bulwark.ReportHTML, "en", false},
		{bulwark.ReportMarkdown, "", true},
		{bulwark.ReportHTML, "fr", true},
		{bulwark.ReportMarkdown, "zh", true},
		{bulwark.ReportJSON, "", false},
		{bulwark.ReportJSON, "de", true},
		{bulwark.ReportJUnit, "", false},
		{"pdf", "en", true},
	} {
		err := report.Render(&bytes.Buffer{}, fixture(), tc.format, tc.lang)
		if (err != nil) != tc.wantErr {
			t.Errorf("Render(%s, %q) = %v, want error %v", tc.format, tc.lang, err, tc.wantErr)
		}
	}
}

func TestTimesInDeploymentZone(t *testing.T) {
	md := render(t, fixture(), bulwark.ReportMarkdown, "en")
	if !strings.Contains(md, "2025-03-03 10:00:00") || !strings.Contains(md, "Asia/Shanghai (UTC+08:00)") {
		t.Error("start not shown in Asia/Shanghai")
	}
	var buf bytes.Buffer
	if err := (report.Options{Location: time.UTC}).Render(&buf, fixture(), bulwark.ReportMarkdown, "en"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "2025-03-03 02:00:00") {
		t.Error("Location ignored")
	}
}

func TestMarkdownEscapes(t *testing.T) {
	in := fixture()
	in.Run.DrillName = "a|b <img src=x>"
	in.Steps[0].Name = "x | y"
	md := render(t, in, bulwark.ReportMarkdown, "en")
	if strings.Contains(md, "<img") || strings.Contains(md, "| x | y |") {
		t.Errorf("markdown not escaped:\n%s", md)
	}
}

func TestWriteAll(t *testing.T) {
	dir := t.TempDir()
	junit := filepath.Join(dir, "ci", "junit.xml")
	paths, err := report.WriteAll(filepath.Join(dir, "reports"), fixture(), []string{"zh-CN", "en"}, junit)
	if err != nil {
		t.Fatal(err)
	}
	want := map[bulwark.ReportFormat]string{
		bulwark.ReportJSON:     "reports/run-" + runID + ".json",
		bulwark.ReportMarkdown: "reports/run-" + runID + ".zh-CN.md",
		bulwark.ReportHTML:     "reports/run-" + runID + ".zh-CN.html",
		bulwark.ReportJUnit:    "ci/junit.xml",
	}
	for f, rel := range want {
		if paths[f] != filepath.Join(dir, rel) {
			t.Errorf("%s path = %q, want %q", f, paths[f], filepath.Join(dir, rel))
		}
	}
	for _, rel := range []string{"reports/run-" + runID + ".en.md", "reports/run-" + runID + ".en.html", "ci/junit.xml"} {
		if _, err := os.Stat(filepath.Join(dir, rel)); err != nil {
			t.Error(err)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "reports"))
	if len(entries) != 5 {
		t.Errorf("%d files in the report dir, want 5 (no temporary files)", len(entries))
	}

	empty := t.TempDir()
	if _, err := report.WriteAll(empty, fixture(), []string{"en", "fr"}, ""); err == nil {
		t.Error("WriteAll accepted fr")
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("WriteAll wrote %d files before refusing a language", len(entries))
	}
	bad := fixture()
	bad.Run.ID = "../../etc/x"
	if _, err := report.WriteAll(empty, bad, nil, ""); err == nil {
		t.Error("WriteAll accepted a run id with a path in it")
	}
}
