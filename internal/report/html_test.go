package report_test

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark"
)

// htmlStats is what TestHTML checks in a parsed report.
type htmlStats struct {
	svgs      int
	bandsPer  []int // band rects in each svg
	alertsPer []int // correlated alert markers in each svg
	othersPer []int // uncorrelated alert markers in each svg
	text      strings.Builder
	lang      string
}

// parseHTML parses the report as XML (it is written well-formed), fails on
// anything that would load an external resource or run a script, and
// counts the charts' bands and alert markers.
func parseHTML(t *testing.T, doc string) *htmlStats {
	t.Helper()
	st := &htmlStats{}
	d := xml.NewDecoder(strings.NewReader(doc))
	d.Strict = true
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("report is not well-formed: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			switch tok.Name.Local {
			case "script", "link", "img", "iframe", "object", "embed", "image", "use":
				t.Errorf("report has a <%s> element", tok.Name.Local)
			case "html":
				for _, a := range tok.Attr {
					if a.Name.Local == "lang" {
						st.lang = a.Value
					}
				}
			case "svg":
				st.svgs++
				st.bandsPer = append(st.bandsPer, 0)
				st.alertsPer = append(st.alertsPer, 0)
				st.othersPer = append(st.othersPer, 0)
			}
			for _, a := range tok.Attr {
				n := strings.ToLower(a.Name.Local)
				if n == "src" || n == "href" || strings.HasPrefix(n, "on") || strings.Contains(a.Value, "://") {
					t.Errorf("report has an external reference or handler: %s=%q", a.Name.Local, a.Value)
				}
				if n == "class" && st.svgs > 0 {
					switch a.Value {
					case "band":
						st.bandsPer[st.svgs-1]++
					case "alert":
						st.alertsPer[st.svgs-1]++
					case "alert-other":
						st.othersPer[st.svgs-1]++
					}
				}
			}
		case xml.CharData:
			st.text.Write(tok)
		}
	}
	if s := strings.ToLower(doc); strings.Contains(s, "url(") || strings.Contains(s, "@import") {
		t.Error("report CSS loads an external resource")
	}
	return st
}

func TestHTML(t *testing.T) {
	for _, tc := range []struct{ lang, verdict, heading string }{
		{"zh-CN", "未通过（发现风险）", "稳态探针曲线"},
		{"en", "failed (weakness found)", "Steady-state probes over time"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			in := fixture()
			st := parseHTML(t, render(t, in, bulwark.ReportHTML, tc.lang))
			if st.lang != tc.lang {
				t.Errorf("html lang = %q", st.lang)
			}
			text := st.text.String()
			for _, want := range []string{tc.verdict, tc.heading, "0195a1b2-0001-7000-8000-000000000002", "HTTP 500 for 100% of requests"} {
				if !strings.Contains(text, want) {
					t.Errorf("no %q in the text", want)
				}
			}
			// Two plots (latency, success) per probe; each shows a band per
			// fault, the correlated alert and the unrelated one (greyed).
			if want := 2 * len(in.Probes); st.svgs != want {
				t.Fatalf("%d svg charts, want %d", st.svgs, want)
			}
			for i := range st.bandsPer {
				if st.bandsPer[i] != 2 {
					t.Errorf("svg %d has %d fault bands, want 2", i, st.bandsPer[i])
				}
				if st.alertsPer[i] != 1 || st.othersPer[i] != 1 {
					t.Errorf("svg %d has %d+%d alert markers, want 1+1", i, st.alertsPer[i], st.othersPer[i])
				}
			}
		})
	}
}

func TestHTMLEscapes(t *testing.T) {
	in := fixture()
	in.Run.DrillName = `<script>alert("x")</script>`
	in.Steps[0].Name = `"><svg onload=alert(1)>`
	in.Alerts[0].Title = `</title><script>1</script>`
	doc := render(t, in, bulwark.ReportHTML, "en")
	parseHTML(t, doc)
	if strings.Contains(doc, "<script") {
		t.Error("a <script> got through")
	}
}

func TestHTMLWithoutSamples(t *testing.T) {
	in := fixture()
	in.Samples, in.Alerts, in.Events = nil, nil, nil
	st := parseHTML(t, render(t, in, bulwark.ReportHTML, "zh-CN"))
	if st.svgs != 0 || !strings.Contains(st.text.String(), "该探针没有样本") {
		t.Errorf("a probe without samples: %d charts", st.svgs)
	}
}
