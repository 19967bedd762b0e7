package engine

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// progress prints a run's progress for people: one line per event, and in
// a terminal a status line with each probe's live state, redrawn in place.
type progress struct {
	w     io.Writer
	tty   bool
	now   func() time.Time
	start time.Time

	mu     sync.Mutex
	probes map[string]bulwark.Sample
	last   time.Time
	status bool // a status line is on screen
}

func newProgress(w io.Writer, now func() time.Time) *progress {
	p := &progress{w: w, now: now, start: now(), probes: map[string]bulwark.Sample{}}
	if f, ok := w.(*os.File); ok {
		p.tty = isTerminal(f)
	}
	return p
}

func (p *progress) printf(format string, args ...any) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.clearStatus()
	fmt.Fprintf(p.w, "%s  %s\n", p.elapsed(), fmt.Sprintf(format, args...))
}

func (p *progress) elapsed() string {
	return fmt.Sprintf("%6.1fs", p.now().Sub(p.start).Seconds())
}

func (p *progress) clearStatus() {
	if p.status {
		fmt.Fprint(p.w, "\r\033[K")
		p.status = false
	}
}

// plan prints what a dry run would do.
func (p *progress) plan(pl *Plan, seed int64) {
	b, _ := json.MarshalIndent(struct {
		Seed   int64          `json:"seed"`
		Hosts  []Host         `json:"hosts"`
		Faults []PlannedFault `json:"faults"`
	}{seed, pl.Hosts, pl.Faults}, "", "  ")
	if p.w != nil {
		fmt.Fprintln(p.w, string(b))
	}
}

// event prints one timeline entry in a line.
func (p *progress) event(e *bulwark.RunEvent) {
	var d map[string]any
	dec := json.NewDecoder(bytes.NewReader(e.Data))
	dec.UseNumber()
	_ = dec.Decode(&d)
	p.printf("%-22s %s", e.Type, summary(d))
}

// summary renders an event's data compactly, leaving out bulky fields.
func summary(d map[string]any) string {
	var keys []string
	for k := range d {
		switch k {
		case "evidence", "judgements", "labels", "measures", "target":
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		v := fmt.Sprint(d[k])
		if len(v) > 80 {
			v = v[:77] + "..."
		}
		if v != "" && v != "<nil>" && v != "map[]" {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, " ")
}

// sample updates the live state and, in a terminal, redraws the status
// line at most every 250 ms.
func (p *progress) sample(probe string, s bulwark.Sample) {
	if p.w == nil || !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.probes[probe] = s
	if p.now().Sub(p.last) < 250*time.Millisecond {
		return
	}
	p.last = p.now()
	var names []string
	for n := range p.probes {
		names = append(names, n)
	}
	sort.Strings(names)
	var parts []string
	for _, n := range names {
		s := p.probes[n]
		mark := "ok"
		if !s.OK {
			mark = "FAIL"
		}
		parts = append(parts, fmt.Sprintf("%s %s %s", n, mark, time.Duration(s.LatencyNS).Round(time.Millisecond)))
	}
	fmt.Fprintf(p.w, "\r\033[K%s  [%s] %s", p.elapsed(), s.Phase, strings.Join(parts, " | "))
	p.status = true
}

// finished prints the verdict and the headline measures.
func (p *progress) finished(r *bulwark.Run) {
	p.printf("verdict: %s — %s", r.Verdict, r.Reason)
	m := r.Measures
	p.printf("MTTD %s (from %s)  time to effect %s  MTTR %s  recovery after end %s",
		durText(m.MTTD), m.MTTDSource, durText(m.TimeToEffect), durText(m.MTTR), durText(m.RecoveryAfterEnd))
}

func durText(d *bulwark.Duration) string {
	if d == nil {
		return "not detected"
	}
	return d.Std().Round(time.Millisecond).String()
}
