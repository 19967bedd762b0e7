package server

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the server's own Prometheus metrics, in a registry of its own
// so that several servers in one test process do not collide.
type metrics struct {
	reg           *prometheus.Registry
	requests      *prometheus.CounterVec
	auditFailures prometheus.Counter
	decisions     *prometheus.CounterVec
	halts         prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bulwark_http_requests_total", Help: "API requests by route pattern and status code.",
		}, []string{"pattern", "code"}),
		auditFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "bulwark_audit_record_failures_total", Help: "Audit entries that could not be recorded or spooled.",
		}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "bulwark_policy_decisions_total", Help: "Policy gate decisions by action and outcome.",
		}, []string{"action", "outcome"}),
		halts: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "bulwark_halts_active", Help: "Halts in force.",
		}),
	}
	m.reg.MustRegister(m.requests, m.auditFailures, m.decisions, m.halts,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// instrument counts requests by the ServeMux pattern that matched.
func (m *metrics) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		next.ServeHTTP(sw, r)
		pattern := r.Pattern
		if pattern == "" {
			pattern = "unmatched"
		}
		m.requests.WithLabelValues(pattern, strconv.Itoa(sw.code)).Inc()
	})
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
