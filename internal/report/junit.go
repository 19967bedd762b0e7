package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// The JUnit XML shape most CI servers read (Jenkins, GitLab, GitHub
// actions): one <testsuite> per run inside <testsuites>.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	ID         string          `xml:"id,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Timestamp  string          `xml:"timestamp,attr,omitempty"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure"`
	Error     *junitProblem `xml:"error"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// secs formats d as JUnit seconds with millisecond precision.
func secs(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}

// renderJUnit writes the run as JUnit XML (contract 7): a case per probe
// per phase, a case per step, and a case for the run's verdict. A broken
// tolerance is a <failure>, too few samples an <error>; a step that failed
// takes the run's outcome: <failure type="aborted"> when the run was
// aborted, <error> when the platform erred. A passing drill has no
// failures. JUnit is read by machines, so it is in English.
func renderJUnit(w io.Writer, in *Input) error {
	r := in.Run
	s := junitSuite{Name: "bulwark drill " + r.DrillName, ID: r.ID}
	var took time.Duration
	if r.StartedAt != nil {
		s.Timestamp = r.StartedAt.UTC().Format("2006-01-02T15:04:05")
		if r.EndedAt != nil {
			took = r.EndedAt.Sub(*r.StartedAt)
		}
	}
	s.Time = secs(took)
	s.Properties = junitProps(in)
	for _, j := range in.Judgements {
		s.Cases = append(s.Cases, judgementCase(in, j))
	}
	for _, st := range in.Steps {
		s.Cases = append(s.Cases, stepCase(r, st))
	}
	s.Cases = append(s.Cases, verdictCase(r, took))
	for _, c := range s.Cases {
		if c.Failure != nil {
			s.Failures++
		}
		if c.Error != nil {
			s.Errors++
		}
	}
	s.Tests = len(s.Cases)
	doc := junitSuites{Name: "bulwark", Tests: s.Tests, Failures: s.Failures, Errors: s.Errors, Time: s.Time, Suites: []junitSuite{s}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("render junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("render junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func junitProps(in *Input) []junitProperty {
	r := in.Run
	props := []junitProperty{
		{"run.id", r.ID}, {"drill", r.DrillName}, {"system", r.System}, {"environment", r.Environment},
		{"type", r.Type}, {"risk", r.Risk}, {"ticket", r.Ticket}, {"seed", strconv.FormatInt(r.Seed, 10)},
		{"verdict", string(r.Verdict)}, {"reason", r.Reason}, {"mttdSource", string(in.MTTDSource)},
	}
	m := r.Measures
	for _, d := range []struct {
		name string
		v    *bulwark.Duration
	}{{"timeToEffect", m.TimeToEffect}, {"mttd", m.MTTD}, {"mtta", m.MTTA}, {"mttr", m.MTTR}, {"recoveryAfterEnd", m.RecoveryAfterEnd}} {
		val := "not detected"
		if d.v != nil {
			val = d.v.String()
		}
		props = append(props, junitProperty{"measure." + d.name, val})
	}
	return props
}

// judgementCase is one probe over one phase.
func judgementCase(in *Input, j Judgement) junitCase {
	c := junitCase{Classname: "probe." + j.Probe, Name: j.Phase, Time: secs(phaseSpan(in, j))}
	if n, ok := bulwark.SamplePhase(j.Phase).Step(); ok {
		for _, st := range in.Steps {
			if st.Index == n && st.Name != "" {
				c.Name += " " + st.Name
			}
		}
	}
	detail := fmt.Sprintf("samples=%d successRate=%s p50=%s p90=%s p99=%s", j.Samples, fmtRate(j.SuccessRate), fmtDur(j.P50), fmtDur(j.P90), fmtDur(j.P99))
	switch {
	case j.TooFew:
		c.Error = &junitProblem{Message: orText(j.Reason, "too few samples"), Type: "too-few-samples", Text: detail}
	case !j.OK:
		c.Failure = &junitProblem{Message: orText(j.Reason, "tolerance broken"), Type: "tolerance", Text: detail}
	}
	return c
}

// phaseSpan is the time between a phase's first and last sample.
func phaseSpan(in *Input, j Judgement) time.Duration {
	var first, last time.Time
	for _, s := range in.Samples {
		if s.Probe != j.Probe || string(s.Phase) != j.Phase {
			continue
		}
		if first.IsZero() || s.Time.Before(first) {
			first = s.Time
		}
		if s.Time.After(last) {
			last = s.Time
		}
	}
	return last.Sub(first)
}

// stepCase is one step; a failed step takes the run's outcome.
func stepCase(r *bulwark.Run, st Step) junitCase {
	c := junitCase{Classname: "step", Name: fmt.Sprintf("%d. %s", st.Index, orText(st.Name, st.Kind))}
	if !st.Started.IsZero() && !st.Ended.IsZero() {
		c.Time = secs(st.Ended.Sub(st.Started))
	} else {
		c.Time = secs(0)
	}
	if st.Err == "" {
		return c
	}
	switch r.Verdict {
	case bulwark.VerdictAborted:
		c.Failure = &junitProblem{Message: st.Err, Type: "aborted", Text: r.Reason}
	case bulwark.VerdictFailed:
		c.Failure = &junitProblem{Message: st.Err, Type: "failed", Text: r.Reason}
	default:
		c.Error = &junitProblem{Message: st.Err, Type: "error", Text: r.Reason}
	}
	return c
}

// verdictCase carries the run's verdict, so that a CI gate sees an aborted
// or erred run even when no probe or step case failed.
func verdictCase(r *bulwark.Run, took time.Duration) junitCase {
	c := junitCase{Classname: "run", Name: "verdict", Time: secs(took)}
	reason := orText(r.Reason, string(r.Verdict))
	switch r.Verdict {
	case bulwark.VerdictPassed:
	case bulwark.VerdictFailed:
		c.Failure = &junitProblem{Message: reason, Type: "failed", Text: "the steady-state hypothesis did not hold"}
	case bulwark.VerdictAborted:
		c.Failure = &junitProblem{Message: reason, Type: "aborted", Text: "an abort condition fired; every fault was recovered"}
	default:
		c.Error = &junitProblem{Message: orText(r.Reason, "run did not finish"), Type: "error", Text: "the platform could not run the drill or verify its recovery"}
	}
	return c
}

func orText(s, alt string) string {
	if s == "" {
		return alt
	}
	return s
}
