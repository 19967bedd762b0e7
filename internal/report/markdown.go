package report

import (
	"fmt"
	"io"
	"strings"
)

// mdCell escapes s for a Markdown table cell: pipes, line breaks, and the
// characters that would start inline HTML or emphasis.
var mdCell = strings.NewReplacer("|", `\|`, "\r\n", " ", "\n", " ", "<", "&lt;", ">", "&gt;", "*", `\*`, "_", `\_`, "`", "'")

// mdText escapes s for running text.
var mdText = strings.NewReplacer("\n", " ", "<", "&lt;", ">", "&gt;", "*", `\*`, "_", `\_`, "`", "'", "#", `\#`)

// mdWriter writes Markdown, keeping the first error.
type mdWriter struct {
	w   io.Writer
	err error
}

func (m *mdWriter) printf(format string, args ...any) {
	if m.err == nil {
		_, m.err = fmt.Fprintf(m.w, format, args...)
	}
}

// table writes a table; every cell is escaped.
func (m *mdWriter) table(head []string, rows [][]string) {
	cells := func(ss []string) string {
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = mdCell.Replace(s)
		}
		return "| " + strings.Join(out, " | ") + " |\n"
	}
	m.printf("%s", cells(head))
	m.printf("|%s\n", strings.Repeat(" --- |", len(head)))
	for _, r := range rows {
		m.printf("%s", cells(r))
	}
	m.printf("\n")
}

func (m *mdWriter) section(title string) { m.printf("## %s\n\n", mdText.Replace(title)) }

// renderMarkdown writes the report as Markdown: the numbers a manager
// reads first, then the detail an engineer or an auditor needs.
func renderMarkdown(w io.Writer, v *view) error {
	m := &mdWriter{w: w}
	m.printf("# %s\n\n", mdText.Replace(v.Title))
	m.printf("**%s**", mdText.Replace(v.T("verdict.line", v.VerdictName)))
	if v.Reason != "" {
		m.printf(" — %s", mdText.Replace(v.Reason))
	}
	m.printf("\n\n> %s\n\n", mdText.Replace(v.VerdictHelp))

	m.table([]string{v.T("col.item"), v.T("col.value")}, kvRows(v.Headline))

	m.section(v.T("section.meta"))
	m.table([]string{v.T("col.item"), v.T("col.value")}, kvRows(v.Meta))

	m.section(v.T("section.measures"))
	var rows [][]string
	for _, r := range v.Measures {
		rows = append(rows, []string{r.Name, r.Value, r.Desc})
	}
	m.table([]string{v.T("col.measure"), v.T("col.value"), v.T("col.definition")}, rows)
	m.printf("> %s\n\n", mdText.Replace(v.MTTDNote))

	if len(v.StepRows) > 0 {
		m.section(v.T("section.stepMeasures"))
		m.table(v.StepHead, v.StepRows)
	}

	if len(v.Judgements) > 0 {
		m.section(v.T("section.judgements"))
		rows = nil
		for _, j := range v.Judgements {
			rows = append(rows, []string{j.Probe, j.Phase, j.Samples, j.SuccessRate, j.P50, j.P90, j.P99, j.Result, j.Reason})
		}
		m.table([]string{v.T("col.probe"), v.T("col.phase"), v.T("col.samples"), v.T("col.successRate"), "P50", "P90", "P99", v.T("col.result"), v.T("col.reason")}, rows)
	}

	writeMarkdownDetail(m, v)
	return m.err
}

// writeMarkdownDetail writes the steps, injections, probes, alerts,
// timeline and warnings.
func writeMarkdownDetail(m *mdWriter, v *view) {
	if len(v.Steps) > 0 {
		m.section(v.T("section.steps"))
		var rows [][]string
		for _, s := range v.Steps {
			rows = append(rows, []string{s.Index, s.Name, s.Kind, s.Started, s.Took, s.Hosts, s.Result})
		}
		m.table([]string{"#", v.T("col.step"), v.T("col.kind"), v.T("col.started"), v.T("col.took"), v.T("col.hosts"), v.T("col.result")}, rows)
	}

	if len(v.Injections) > 0 {
		m.section(v.T("section.injections"))
		for _, in := range v.Injections {
			m.printf("### %s\n\n", mdText.Replace(in.Title))
			m.printf("- %s: %s\n- %s: %s\n", v.T("col.hosts"), mdText.Replace(in.Hosts), v.T("col.window"), in.Window)
			if in.Err != "" {
				m.printf("- %s: %s\n", v.T("col.error"), mdText.Replace(in.Err))
			}
			m.printf("\n")
			for _, f := range in.Faults {
				m.printf("- **%s** `%s`", mdText.Replace(f.Kind), f.ID)
				if f.Host != "" {
					m.printf(" @ %s", mdText.Replace(f.Host))
				}
				m.printf("\n  - %s: %s\n", v.T("col.params"), mdText.Replace(orDash(f.Params)))
				if f.Target != "" {
					m.printf("  - %s: %s\n", v.T("col.target"), mdText.Replace(f.Target))
				}
				m.printf("  - %s: %s; %s: %s\n", v.T("col.state"), f.State, v.T("col.window"), f.Window)
				if f.Err != "" {
					m.printf("  - %s: %s\n", v.T("col.error"), mdText.Replace(f.Err))
				}
				for _, e := range f.Evidence {
					m.printf("  - %s %s %s", e.Mark, e.Time, mdText.Replace(e.Check))
					if e.Detail != "" {
						m.printf(": %s", mdText.Replace(e.Detail))
					}
					m.printf("\n")
				}
			}
			m.printf("\n")
		}
	}

	if len(v.Probes) > 0 {
		m.section(v.T("section.probes"))
		var rows [][]string
		for _, p := range v.Probes {
			rows = append(rows, []string{p.Name, p.Kind, p.Target, p.Interval, p.Tolerance})
		}
		m.table([]string{v.T("col.probe"), v.T("col.kind"), v.T("col.target"), v.T("col.interval"), v.T("col.tolerance")}, rows)
	}

	m.section(v.T("section.alerts"))
	if len(v.Alerts) == 0 {
		m.printf("%s\n\n", v.T("alerts.none"))
	} else {
		var rows [][]string
		for _, a := range v.Alerts {
			rows = append(rows, []string{a.Time, a.Offset, a.Source, a.Title, a.Host, a.System, a.Acked, a.Correlated})
		}
		m.table([]string{v.T("col.time"), v.T("col.offset"), v.T("col.source"), v.T("col.title"), v.T("col.host"), v.T("col.system"), v.T("col.acked"), v.T("col.correlated")}, rows)
	}

	if len(v.Timeline) > 0 {
		m.section(v.T("section.timeline"))
		var rows [][]string
		for _, e := range v.Timeline {
			rows = append(rows, []string{e.Time, e.Offset, e.Name, e.Detail})
		}
		m.table([]string{v.T("col.time"), v.T("col.offset"), v.T("col.event"), v.T("col.detail")}, rows)
	}

	if len(v.Warnings) > 0 {
		m.section(v.T("section.warnings"))
		for _, w := range v.Warnings {
			m.printf("- %s\n", mdText.Replace(w))
		}
		m.printf("\n")
	}
	m.printf("---\n%s\n", mdText.Replace(v.T("report.footer")))
}

func kvRows(kvs []kv) [][]string {
	rows := make([][]string, len(kvs))
	for i, p := range kvs {
		rows[i] = []string{p.Key, p.Value}
	}
	return rows
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
