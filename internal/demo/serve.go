package demo

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark"
)

var indexTmpl = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("index").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>Bulwark demo</title>
<style>body{font:15px system-ui,sans-serif;margin:2em auto;max-width:60em}td,th{padding:.3em .8em;text-align:left}
.passed{color:#137333}.failed,.error{color:#c5221f}.aborted{color:#b06000}</style></head><body>
<h1>Bulwark 演练示例 · demo programme</h1><table><tr><th>drill</th><th>verdict</th><th>reports</th></tr>
{{range .}}<tr><td>{{.Name}} — {{.Title}}</td>{{if .Run}}<td class="{{.Run.Verdict}}">{{.Run.Verdict}}</td>
<td>{{range $f, $p := .Links}}<a href="{{$p}}">{{$f}}</a> {{end}}</td>{{else}}<td>skipped</td><td>{{.Skipped}}</td>{{end}}</tr>
{{end}}</table></body></html>`))
})

// Serve serves the report directory, with an index of the programme, on
// addr until ctx is done.
func Serve(ctx context.Context, addr, dir string, outs []Outcome, log io.Writer) error {
	type row struct {
		Outcome
		Links map[bulwark.ReportFormat]string
	}
	var rows []row
	for _, o := range outs {
		r := row{Outcome: o, Links: map[bulwark.ReportFormat]string{}}
		for f, p := range o.Reports {
			r.Links[f] = "/reports/" + filepath.Base(p)
		}
		rows = append(rows, r)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /reports/", http.StripPrefix("/reports/", http.FileServer(http.Dir(dir))))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		indexTmpl().Execute(w, rows)
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen for the report server: %w", err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	fmt.Fprintf(log, "\nreports served on http://%s/ — Ctrl-C to stop\n", ln.Addr())
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
