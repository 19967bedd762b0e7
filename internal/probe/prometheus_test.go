package probe_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/probe"
)

// Responses in the shape Prometheus's /api/v1/query returns them.
var promResponses = map[string]struct {
	status int
	body   string
}{
	`up{job="order-api"}`: {200, `{"status":"success","data":{"resultType":"vector","result":[
		{"metric":{"__name__":"up","instance":"10.0.0.5:9100","job":"order-api"},"value":[1714550400.123,"1"]},
		{"metric":{"__name__":"up","instance":"10.0.0.6:9100","job":"order-api"},"value":[1714550400.123,"1"]}]}}`},
	`up{job="quotes"}`: {200, `{"status":"success","data":{"resultType":"vector","result":[
		{"metric":{"instance":"10.0.0.7:9100"},"value":[1714550400.123,"1"]},
		{"metric":{"instance":"10.0.0.8:9100"},"value":[1714550400.123,"0"]}]}}`},
	`scalar(0.25)`:       {200, `{"status":"success","data":{"resultType":"scalar","result":[1714550400.123,"0.25"]}}`},
	`absent_metric`:      {200, `{"status":"success","data":{"resultType":"vector","result":[]}}`},
	`rate(x[5m]`:         {400, `{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:11: parse error: unclosed left parenthesis"}`},
	`nan_metric`:         {200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1714550400.123,"NaN"]}]}}`},
	`up{job="warn"}[1m]`: {200, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1714550340,"0"],[1714550400,"1"]]}]},"warnings":["x"]}`},
}

func fakePrometheus(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query" || r.URL.Query().Get("timeout") == "" {
			http.NotFound(w, r)
			return
		}
		resp, ok := promResponses[r.URL.Query().Get("query")]
		if !ok {
			resp.status, resp.body = 422, `{"status":"error","errorType":"execution","error":"unknown test query"}`
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(resp.status)
		w.Write([]byte(resp.body))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestPrometheusProbe(t *testing.T) {
	srv := fakePrometheus(t)
	cases := []struct {
		name      string
		query     string
		op        probe.Op
		threshold float64
		ok        bool
		value     float64 // checked when hasValue
		hasValue  bool
		errPart   string
	}{
		{"all up", `up{job="order-api"}`, probe.OpEQ, 1, true, 1, true, ""},
		{"one down", `up{job="quotes"}`, probe.OpGE, 1, false, 0, true, "value 0 >= 1 is false"},
		{"scalar below", `scalar(0.25)`, probe.OpLT, 0.5, true, 0.25, true, ""},
		{"scalar above", `scalar(0.25)`, probe.OpGT, 0.5, false, 0.25, true, "0.25 > 0.5"},
		{"empty result", `absent_metric`, probe.OpGT, 0, false, 0, false, "no samples"},
		{"bad query", `rate(x[5m]`, probe.OpGT, 0, false, 0, false, "bad_data"},
		{"NaN only !=", `nan_metric`, probe.OpNE, 0, true, 0, false, ""},
		{"matrix last", `up{job="warn"}[1m]`, probe.OpEQ, 1, true, 1, true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &probe.PrometheusConfig{URL: srv.URL + "/", Query: tc.query, Op: tc.op, Threshold: tc.threshold}
			r := check(t, mustProbe(t, "prom", cfg, probe.Options{}))
			if r.OK != tc.ok || !strings.Contains(r.Err, tc.errPart) {
				t.Fatalf("Check = %+v, want ok=%v err~%q", r, tc.ok, tc.errPart)
			}
			if tc.hasValue && (r.Value == nil || *r.Value != tc.value) {
				t.Fatalf("Value = %v, want %v", r.Value, tc.value)
			}
		})
	}
}
