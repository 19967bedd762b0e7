package report

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// The chart geometry, in SVG user units (the viewBox): plots are drawn by
// this file, not by a charting library, so the HTML report needs no script
// and no external asset.
const (
	chartW, chartH         = 760.0, 170.0
	padL, padR, padT, padB = 60.0, 12.0, 18.0, 22.0
	maxDots                = 1500 // above this, successful samples are a line only
)

// chart is the pair of plots drawn for one probe.
type chart struct {
	Probe, Caption     string
	Latency, Success   plot
	HasSamples         bool
	LatencyT, SuccessT string
}

// plot is one SVG plot: axes, fault bands, alert markers and data.
type plot struct {
	W, H, L, R, T, B float64
	Bands            []band
	Alerts           []marker
	XTicks, YTicks   []tick
	Line, Dots       string // SVG path data
	Fails            string // SVG path data: a cross per failed sample
	Bars             []bar
	Limit            *tick // the tolerance line, if any
}

type band struct {
	X, W, LabelX float64
	Label        string
}

type marker struct {
	X          float64
	Label      string
	Correlated bool
}

type tick struct {
	X, Y   float64
	Label  string
	Anchor string // text-anchor of the label
}

type bar struct {
	X, Y, W, H float64
	Bad        bool
	Title      string
}

// timeAxis maps instants onto the plot's x range.
type timeAxis struct{ t0, t1 time.Time }

func (a timeAxis) x(t time.Time) float64 {
	f := float64(t.Sub(a.t0)) / float64(a.t1.Sub(a.t0))
	return round1(padL + math.Max(0, math.Min(1, f))*(chartW-padL-padR))
}

func (a timeAxis) contains(t time.Time) bool { return !t.Before(a.t0) && !t.After(a.t1) }

func round1(f float64) float64 { return math.Round(f*10) / 10 }

func fnum(f float64) string { return strconv.FormatFloat(round1(f), 'f', -1, 64) }

// newAxis spans every sample and step of the run.
func newAxis(in *Input) timeAxis {
	var a timeAxis
	grow := func(t time.Time) {
		if t.IsZero() {
			return
		}
		if a.t0.IsZero() || t.Before(a.t0) {
			a.t0 = t
		}
		if t.After(a.t1) {
			a.t1 = t
		}
	}
	for _, s := range in.Samples {
		grow(s.Time)
	}
	for _, s := range in.Steps {
		grow(s.Started)
		grow(s.Ended)
	}
	if !a.t1.After(a.t0) {
		a.t1 = a.t0.Add(time.Second)
	}
	return a
}

// charts draws a latency plot and a success-rate plot for every probe.
func (v *view) charts() []chart {
	ax := newAxis(v.in)
	frame := v.frame(ax)
	var out []chart
	for _, p := range v.in.Probes {
		var samples []*bulwark.Sample
		for _, s := range v.in.Samples {
			if s.Probe == p.Name {
				samples = append(samples, s)
			}
		}
		c := chart{Probe: p.Name, Caption: p.Kind + " " + p.Target, HasSamples: len(samples) > 0,
			LatencyT: v.T("chart.latency", p.Name), SuccessT: v.T("chart.success", p.Name)}
		c.Latency, c.Success = frame, frame
		v.latencyPlot(&c.Latency, ax, p, samples)
		v.successPlot(&c.Success, ax, p, samples)
		out = append(out, c)
	}
	return out
}

// frame is what both plots share: the x axis, the fault bands and the
// alert markers.
func (v *view) frame(ax timeAxis) plot {
	pl := plot{W: chartW, H: chartH, L: padL, R: chartW - padR, T: padT, B: chartH - padB}
	for i := 0; i <= 5; i++ {
		t := ax.t0.Add(time.Duration(float64(ax.t1.Sub(ax.t0)) * float64(i) / 5))
		anchor := "middle"
		if i == 5 {
			anchor = "end"
		}
		pl.XTicks = append(pl.XTicks, tick{X: ax.x(t), Y: pl.B, Label: t.In(v.loc).Format("15:04:05"), Anchor: anchor})
	}
	for _, s := range v.in.Steps {
		for _, w := range faultWindows(s, ax.t1) {
			x0, x1 := ax.x(w[0]), ax.x(w[1])
			pl.Bands = append(pl.Bands, band{X: x0, W: round1(math.Max(1, x1-x0)), LabelX: x0 + 2, Label: itoa(s.Index) + ". " + s.Name})
		}
	}
	for _, a := range v.in.Alerts {
		if ax.contains(a.StartsAt) {
			pl.Alerts = append(pl.Alerts, marker{X: ax.x(a.StartsAt), Label: a.Source + ": " + a.Title, Correlated: a.Correlated})
		}
	}
	return pl
}

// faultWindows returns each of a step's fault windows [activeAt, endedAt],
// falling back to the step's tActive and tEnd (or its end, or the chart's
// end while the fault is still live). Identical windows are drawn once.
func faultWindows(s Step, end time.Time) [][2]time.Time {
	stepEnd := end
	switch {
	case s.TEnd != nil:
		stepEnd = *s.TEnd
	case !s.Ended.IsZero():
		stepEnd = s.Ended
	}
	var out [][2]time.Time
	add := func(from, to time.Time) {
		for _, w := range out {
			if w[0].Equal(from) && w[1].Equal(to) {
				return
			}
		}
		out = append(out, [2]time.Time{from, to})
	}
	for _, f := range s.Faults {
		from, to := s.TActive, stepEnd
		if f.ActiveAt != nil {
			from = f.ActiveAt
		}
		if f.EndedAt != nil {
			to = *f.EndedAt
		}
		if from != nil {
			add(*from, to)
		}
	}
	if len(s.Faults) == 0 && s.TActive != nil {
		add(*s.TActive, stepEnd)
	}
	return out
}

// latencyPlot draws successful samples as a line with dots, failures as
// red crosses along the top, and the p99 tolerance as a dashed line.
func (v *view) latencyPlot(pl *plot, ax timeAxis, p ProbeInfo, samples []*bulwark.Sample) {
	top := p.MaxP99
	for _, s := range samples {
		if s.OK && time.Duration(s.LatencyNS) > top {
			top = time.Duration(s.LatencyNS)
		}
	}
	top = niceCeil(top + top/10)
	y := func(d time.Duration) float64 {
		return round1(pl.B - float64(d)/float64(top)*(pl.B-pl.T))
	}
	for _, f := range []float64{0, 0.5, 1} {
		d := time.Duration(float64(top) * f)
		pl.YTicks = append(pl.YTicks, tick{X: pl.L, Y: y(d), Label: fmtDur(d)})
	}
	if p.MaxP99 > 0 {
		pl.Limit = &tick{Y: y(p.MaxP99), Label: "P99 ≤ " + fmtDur(p.MaxP99)}
	}
	var line, dots, fails strings.Builder
	ok := 0
	for _, s := range samples {
		if s.OK {
			ok++
		}
	}
	for _, s := range samples {
		x := ax.x(s.Time)
		if !s.OK {
			fy := pl.T + 4
			fails.WriteString("M" + fnum(x-3) + " " + fnum(fy-3) + "l6 6m0 -6l-6 6")
			continue
		}
		sy := y(time.Duration(s.LatencyNS))
		if line.Len() == 0 {
			line.WriteString("M")
		} else {
			line.WriteString("L")
		}
		line.WriteString(fnum(x) + " " + fnum(sy))
		if ok <= maxDots {
			dots.WriteString("M" + fnum(x-1.6) + " " + fnum(sy) + "a1.6 1.6 0 1 0 3.2 0a1.6 1.6 0 1 0 -3.2 0")
		}
	}
	pl.Line, pl.Dots, pl.Fails = line.String(), dots.String(), fails.String()
}

// successPlot draws the success rate per time bucket (one second, or
// longer for long runs) as bars; a bucket under the tolerance is red.
func (v *view) successPlot(pl *plot, ax timeAxis, p ProbeInfo, samples []*bulwark.Sample) {
	floor := 1.0
	if p.MinSuccessRate != nil {
		floor = *p.MinSuccessRate
		pl.Limit = &tick{Y: round1(pl.B - floor*(pl.B-pl.T)), Label: "≥ " + fmtRate(floor)}
	}
	for _, f := range []float64{0, 0.5, 1} {
		pl.YTicks = append(pl.YTicks, tick{X: pl.L, Y: round1(pl.B - f*(pl.B-pl.T)), Label: fmtRate(f)})
	}
	bucket := time.Second
	if span := ax.t1.Sub(ax.t0); span > 600*time.Second {
		bucket = (span/600 + time.Second - 1).Truncate(time.Second)
	}
	type agg struct{ n, ok int }
	buckets := map[int]*agg{}
	last := 0
	for _, s := range samples {
		i := int(s.Time.Sub(ax.t0) / bucket)
		if buckets[i] == nil {
			buckets[i] = &agg{}
		}
		buckets[i].n++
		if s.OK {
			buckets[i].ok++
		}
		last = max(last, i)
	}
	for i := 0; i <= last; i++ {
		b := buckets[i]
		if b == nil {
			continue
		}
		from := ax.t0.Add(time.Duration(i) * bucket)
		x0, x1 := ax.x(from), ax.x(from.Add(bucket))
		rate := float64(b.ok) / float64(b.n)
		h := round1(math.Max(rate*(pl.B-pl.T), 0))
		title := from.In(v.loc).Format("15:04:05") + " " + fmtRate(rate) + " (" + itoa(b.ok) + "/" + itoa(b.n) + ")"
		if rate == 0 { // draw empty buckets as a thin red line so they show
			h = 1.5
		}
		pl.Bars = append(pl.Bars, bar{X: x0, Y: round1(pl.B - h), W: round1(math.Max(0.8, x1-x0-0.4)), H: h, Bad: rate < floor, Title: title})
	}
}

// niceCeil rounds d up to 1, 2 or 5 times a power of ten, at least 1ms.
func niceCeil(d time.Duration) time.Duration {
	if d < time.Millisecond {
		return time.Millisecond
	}
	p := time.Duration(1)
	for p*10 <= d {
		p *= 10
	}
	for _, m := range []time.Duration{1, 2, 5, 10} {
		if m*p >= d {
			return m * p
		}
	}
	return 10 * p
}
