package i18n_test

import (
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/i18n"
)

func TestEveryKeyHasBothLanguages(t *testing.T) {
	for _, key := range i18n.Keys() {
		zh, okZH := i18n.Lookup(i18n.ZH, key)
		en, okEN := i18n.Lookup(i18n.EN, key)
		if !okZH || !okEN || strings.TrimSpace(zh) == "" || strings.TrimSpace(en) == "" {
			t.Errorf("%s: zh-CN %q, en %q: both are required", key, zh, en)
			continue
		}
		// The two must take the same arguments.
		if verbs(zh) != verbs(en) {
			t.Errorf("%s: zh-CN verbs %q, en verbs %q", key, verbs(zh), verbs(en))
		}
	}
}

// verbs returns the fmt verbs of a message in order.
func verbs(s string) string {
	var out []string
	for i := 0; i < len(s)-1; i++ {
		if s[i] == '%' {
			out = append(out, s[i:i+2])
			i++
		}
	}
	return strings.Join(out, " ")
}

// TestEnumerationsHaveNames checks that every value of the enumerations a
// report shows has a message.
func TestEnumerationsHaveNames(t *testing.T) {
	var keys []string
	for _, v := range []bulwark.Verdict{bulwark.VerdictPassed, bulwark.VerdictFailed, bulwark.VerdictAborted, bulwark.VerdictError} {
		keys = append(keys, "verdict."+string(v), "verdict.help."+string(v))
	}
	for _, s := range []bulwark.State{bulwark.StateInjecting, bulwark.StateActive, bulwark.StateRecovering, bulwark.StateRecovered, bulwark.StateFailed, bulwark.StateStuck} {
		keys = append(keys, "faultState."+string(s))
	}
	for _, s := range []bulwark.RunState{bulwark.RunPending, bulwark.RunRunning, bulwark.RunRecovering, bulwark.RunFinished} {
		keys = append(keys, "runState."+string(s))
	}
	for _, e := range []bulwark.EventType{
		bulwark.EventRunCreated, bulwark.EventRunStarted, bulwark.EventRunFinished,
		bulwark.EventSteadyBeforePassed, bulwark.EventSteadyBeforeFailed, bulwark.EventStepStarted, bulwark.EventStepEnded,
		bulwark.EventFaultInjecting, bulwark.EventFaultActive, bulwark.EventFaultRecovered, bulwark.EventFaultFailed,
		bulwark.EventFaultStuck, bulwark.EventFaultDrifted, bulwark.EventProbeFailed, bulwark.EventAlertReceived,
		bulwark.EventAlertAcked, bulwark.EventAbortFired, bulwark.EventRecoveryStarted, bulwark.EventRecoveryVerified,
		bulwark.EventSettleRestored, bulwark.EventActionStarted, bulwark.EventActionEnded, bulwark.EventActionFailed,
		bulwark.EventVerifyPassed, bulwark.EventVerifyFailed, bulwark.EventManualRequested, bulwark.EventManualConfirmed,
		bulwark.EventManualDenied, bulwark.EventManualTimedOut,
	} {
		keys = append(keys, "event."+string(e))
	}
	for _, k := range []string{"dep.slow", "dep.hang", "dep.down", "dep.error"} {
		keys = append(keys, "kind."+k)
	}
	for _, k := range []string{"special", "surprise", "red-blue", "replay", "adhoc"} {
		keys = append(keys, "drillType."+k)
	}
	for _, k := range []string{"fault", "wait", "action", "verify", "manual", "scenario", "parallel", "serial"} {
		keys = append(keys, "stepKind."+k)
	}
	for _, k := range []string{"timeToEffect", "mttd", "mtta", "mttr", "recoveryAfterEnd", "rto", "rpo"} {
		keys = append(keys, "measure."+k, "measure."+k+".desc")
	}
	for _, k := range keys {
		if !i18n.Has(k) {
			t.Errorf("no message %q", k)
		}
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		ok       bool
	}{
		{"zh-CN", "zh-CN", true},
		{"zh-cn", "zh-CN", true},
		{"en", "en", true},
		{"EN", "en", true},
		{"", "", false},
		{"zh", "", false},
		{"en-US", "", false},
		{"fr", "", false},
	} {
		got, err := i18n.Parse(tc.in)
		if got != tc.want || (err == nil) != tc.ok {
			t.Errorf("Parse(%q) = %q, %v; want %q, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestPrinter(t *testing.T) {
	for _, tc := range []struct {
		lang, key string
		args      []any
		want      string
	}{
		{"zh-CN", "verdict.passed", nil, "通过"},
		{"zh-CN", "verdict.failed", nil, "未通过（发现风险）"},
		{"zh-CN", "verdict.aborted", nil, "已中止"},
		{"zh-CN", "verdict.error", nil, "平台错误"},
		{"en", "verdict.passed", nil, "passed"},
		{"zh-CN", "kind.dep.hang", nil, "吊（连接挂起无响应）"},
		{"zh-CN", "measure.notDetected", nil, "未检测到"},
		{"en", "measure.notDetected", nil, "not detected"},
		{"zh-CN", "phase.stepNamed", []any{3, "quote errors"}, "步骤 3 故障期间：quote errors"},
		{"en", "report.title", []any{"d"}, "Drill report: d"},
		{"en", "no.such.key", nil, "!no.such.key"},
	} {
		if got := i18n.MustPrinter(tc.lang).T(tc.key, tc.args...); got != tc.want {
			t.Errorf("%s %s = %q, want %q", tc.lang, tc.key, got, tc.want)
		}
	}
	if _, err := i18n.NewPrinter("de"); err == nil {
		t.Error("NewPrinter(de) succeeded")
	}
	if n := i18n.Names("verdict.aborted"); n["zh-CN"] != "已中止" || n["en"] != "aborted" {
		t.Errorf("Names = %v", n)
	}
}
