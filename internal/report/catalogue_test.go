package report_test

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/i18n"
)

// TestEveryUsedKeyExists finds each literal catalogue key in this
// package's code and template and checks that the catalogue has it, so a
// typo shows here and not as "!key" in a bank's report.
func TestEveryUsedKeyExists(t *testing.T) {
	files, _ := filepath.Glob("*.go")
	tmpls, _ := filepath.Glob("templates/*.tmpl")
	used := regexp.MustCompile(`\bT\(?\s*"([a-zA-Z][a-zA-Z0-9.]*[a-zA-Z0-9])"`)
	n := 0
	for _, f := range append(files, tmpls...) {
		if filepath.Ext(f) == ".go" && regexp.MustCompile(`_test\.go$`).MatchString(f) {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range used.FindAllSubmatch(b, -1) {
			n++
			if !i18n.Has(string(m[1])) {
				t.Errorf("%s uses %q, which is not in the catalogue", f, m[1])
			}
		}
	}
	if n < 50 {
		t.Errorf("found only %d keys in use: is the pattern still right?", n)
	}
}

// TestNoMissingMessage renders everything in both languages and looks for
// the "!key" marker of a missing message.
func TestNoMissingMessage(t *testing.T) {
	for _, lang := range i18n.Langs() {
		for _, f := range []string{"md", "html"} {
			out := render(t, fixture(), reportFormat(f), lang)
			if m := regexp.MustCompile(`![a-z]+\.[a-zA-Z.]+`).FindString(out); m != "" {
				t.Errorf("%s %s: missing message %s", lang, f, m)
			}
		}
	}
}
