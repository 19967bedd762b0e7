package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const exampleCalendar = "../../examples/calendars/cn-a-share.yaml"

func TestCalendarCheck(t *testing.T) {
	var out, errOut bytes.Buffer
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	if err := runCalendarCheck(&out, &errOut, []string{exampleCalendar}, now); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "ok "+exampleCalendar+" (cn-a-share, valid through 2026-12-31T23:59:59+08:00)") {
		t.Errorf("stdout = %q", out.String())
	}
	if !strings.Contains(errOut.String(), "expires on 2026-12-31") {
		t.Errorf("no expiry warning in December: %q", errOut.String())
	}

	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("apiVersion: bulwark/v1\nkind: Calendar\nmetadata: {name: x}\nspec:\n  timeZone: Asia/Shanghai\n  validThrough: 2026-12-31T23:59:59+08:00\n  sessions: [{name: am, start: \"9:30\", end: \"11:30\"}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	errOut.Reset()
	err := runCalendarCheck(&out, &errOut, []string{bad}, now)
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != ExitUsage {
		t.Fatalf("bad calendar: %v", err)
	}
	if want := bad + `:7:32: spec.sessions[0].start: "9:30" is not a time of day`; !strings.HasPrefix(errOut.String(), want) {
		t.Errorf("stderr = %q, want prefix %q", errOut.String(), want)
	}
}

func TestCalendarEval(t *testing.T) {
	var out, errOut bytes.Buffer
	err := runCalendarEval(&out, &errOut, exampleCalendar, calendarEvalOptions{start: "2026-03-03T14:58:00+08:00", duration: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "session  call-close") || !strings.Contains(out.String(), "window   clearing") {
		t.Errorf("stdout = %q", out.String())
	}
	err = runCalendarEval(&out, &errOut, exampleCalendar, calendarEvalOptions{start: "tomorrow"})
	var ue *UsageError
	if !errors.As(err, &ue) {
		t.Errorf("bad start: %v", err)
	}
}

func TestPolicyCheck(t *testing.T) {
	var out, errOut bytes.Buffer
	files := []string{"../policy/testdata/production.yaml"}
	if err := runPolicyCheck(&out, &errOut, files, policyCheckOptions{calendars: []string{exampleCalendar}, defaultCalendar: "cn-a-share"}); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	err := runPolicyCheck(&out, &errOut, files, policyCheckOptions{})
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), `calendar "cn-a-share" is not loaded`) {
		t.Errorf("without the calendar: %v", err)
	}
}
