package report_test

import (
	"encoding/xml"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/report"
)

type junitDoc struct {
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Suites   []struct {
		Cases []struct {
			Name      string `xml:"name,attr"`
			Classname string `xml:"classname,attr"`
			Failure   *struct {
				Type string `xml:"type,attr"`
			} `xml:"failure"`
			Error *struct{} `xml:"error"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

// TestJUnitOutcomes checks contract 7: failed → <failure>, aborted →
// <failure type="aborted">, error → <error>, passed → nothing.
func TestJUnitOutcomes(t *testing.T) {
	for _, tc := range []struct {
		name         string
		edit         func(in *report.Input)
		failures     int
		errors       int
		verdictFail  string // the run/verdict case's failure type, "" for none
		verdictError bool
	}{
		{"failed", func(*report.Input) {}, 2, 0, "failed", false},
		{"passed", func(in *report.Input) {
			in.Run.Verdict, in.Run.Reason = bulwark.VerdictPassed, ""
			in.Judgements[2].OK, in.Judgements[2].SuccessRate, in.Judgements[2].Reason = true, 1, ""
		}, 0, 0, "", false},
		{"aborted", func(in *report.Input) {
			in.Run.Verdict, in.Run.Reason = bulwark.VerdictAborted, "order-api.successRate < 0.5 for 5s"
			in.Steps[2].Err = "aborted"
		}, 3, 0, "aborted", false},
		{"error", func(in *report.Input) {
			in.Run.Verdict, in.Run.Reason = bulwark.VerdictError, "recovery of step 3 not verified"
			in.Steps[2].Err = "verify recovered: rule still present"
			in.Judgements[5].TooFew, in.Judgements[5].OK = true, false
		}, 1, 3, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := fixture()
			tc.edit(in)
			out := render(t, in, bulwark.ReportJUnit, "")
			var doc junitDoc
			if err := xml.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("junit does not parse: %v\n%s", err, out)
			}
			if doc.Failures != tc.failures || doc.Errors != tc.errors {
				t.Errorf("failures=%d errors=%d, want %d and %d\n%s", doc.Failures, doc.Errors, tc.failures, tc.errors, out)
			}
			cases := doc.Suites[0].Cases
			last := cases[len(cases)-1]
			if last.Classname != "run" || last.Name != "verdict" {
				t.Fatalf("last case is %s/%s, want run/verdict", last.Classname, last.Name)
			}
			if got := ""; last.Failure != nil {
				got = last.Failure.Type
				if got != tc.verdictFail {
					t.Errorf("verdict failure type %q, want %q", got, tc.verdictFail)
				}
			} else if tc.verdictFail != "" {
				t.Errorf("verdict case has no failure, want type %q", tc.verdictFail)
			}
			if (last.Error != nil) != tc.verdictError {
				t.Errorf("verdict case error = %v, want %v", last.Error != nil, tc.verdictError)
			}
			if tc.name == "aborted" && !strings.Contains(out, `<failure message="aborted" type="aborted">`) {
				t.Error("the interrupted step is not failed as aborted")
			}
			// One case per probe per phase, one per step, and the verdict.
			if want := len(in.Judgements) + len(in.Steps) + 1; len(cases) != want {
				t.Errorf("%d cases, want %d", len(cases), want)
			}
		})
	}
}

func reportFormat(s string) bulwark.ReportFormat { return bulwark.ReportFormat(s) }
