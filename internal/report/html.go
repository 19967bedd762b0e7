package report

import (
	"embed"
	"fmt"
	"html/template"
	"io"
	"sync"
)

//go:embed templates/report.html.tmpl
var templates embed.FS

// htmlTemplate is parsed once; html/template escapes every value for its
// context (text, attribute, SVG), so drill names and alert titles cannot
// inject markup.
var htmlTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report.html.tmpl").Funcs(template.FuncMap{
		"add": func(a, b float64) float64 { return round1(a + b) },
		"sub": func(a, b float64) float64 { return round1(a - b) },
	}).ParseFS(templates, "templates/report.html.tmpl"))
})

// renderHTML writes the report as one self-contained HTML file: inline
// CSS, SVG charts drawn here, no script and no external asset.
func renderHTML(w io.Writer, v *view) error {
	v.Charts = v.charts()
	if err := htmlTemplate().Execute(w, v); err != nil {
		return fmt.Errorf("render html: %w", err)
	}
	return nil
}
