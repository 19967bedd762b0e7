package proxy_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/proxy"
)

func do(tb testing.TB, h http.Handler, method, path, body string) (int, map[string]any) {
	tb.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	var out map[string]any
	b, _ := io.ReadAll(rec.Body)
	_ = json.Unmarshal(b, &out)
	return rec.Code, out
}

func errCode(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func TestAPIFaults(t *testing.T) {
	t.Parallel()
	up := mustServe(t, echo)
	p, addr := mustProxy(t, up)
	api := proxy.NewAPI(proxy.APIConfig{P: p, Listen: addr, Upstream: up})
	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"add", "POST", "/faults", `{"id":"slow1","type":"slow","delay":"120ms"}`, 201, ""},
		{"duplicate", "POST", "/faults", `{"id":"slow1","type":"slow","delay":"1ms"}`, 409, "conflict"},
		{"unknown field", "POST", "/faults", `{"id":"x","type":"slow","delay":"1ms","bogus":1}`, 400, "invalid"},
		{"bad type", "POST", "/faults", `{"id":"x","type":"melt"}`, 400, "invalid"},
		{"bad duration", "POST", "/faults", `{"id":"x","type":"slow","delay":"soon"}`, 400, "invalid"},
		{"list", "GET", "/faults", "", 200, ""},
		{"get", "GET", "/faults/slow1", "", 200, ""},
		{"get missing", "GET", "/faults/nope", "", 404, "not_found"},
		{"delete missing", "DELETE", "/faults/nope", "", 404, "not_found"},
	}
	for _, tt := range tests {
		status, body := do(t, api, tt.method, tt.path, tt.body)
		if status != tt.status || errCode(body) != tt.code {
			t.Fatalf("%s: %d %v, want %d %q", tt.name, status, body, tt.status, tt.code)
		}
	}
	// The fault added through the API acts on traffic.
	if _, d := roundTrip(t, mustDial(t, addr), "x"); d < 120*time.Millisecond {
		t.Fatalf("round trip %v with a 120ms delay", d)
	}
	_, body := do(t, api, "GET", "/faults/slow1", "")
	f := body["fault"].(map[string]any)
	if f["delay"] != "120ms" || f["percent"] != 100.0 || f["per"] != "connection" {
		t.Fatalf("fault as listed: %v", f)
	}
	if status, _ := do(t, api, "DELETE", "/faults/slow1", ""); status != 204 {
		t.Fatalf("delete: %d", status)
	}
	if status, body := do(t, api, "PUT", "/faults", `{"faults":[{"type":"error","status":502}]}`); status != 200 || len(body["faults"].([]any)) != 1 {
		t.Fatalf("put: %d %v", status, body)
	}
}

func TestAPIToxiproxySubset(t *testing.T) {
	t.Parallel()
	up := mustServe(t, echo)
	api := proxy.NewAPI(proxy.APIConfig{Create: func(name, listen, upstream string) (*proxy.Proxy, string, error) {
		cfg := proxy.DefaultConfig()
		cfg.Resolve = proxy.Fixed(upstream)
		p, err := proxy.New(cfg)
		if err != nil {
			return nil, "", err
		}
		addr, err := p.Open(context.Background(), listen)
		if err != nil {
			return nil, "", err
		}
		return p, addr.String(), nil
	}})
	t.Cleanup(func() { _ = api.Close() })
	status, body := do(t, api, "POST", "/proxies", `{"name":"redis","listen":"127.0.0.1:0","upstream":"`+up+`","enabled":true}`)
	if status != 201 {
		t.Fatalf("create proxy: %d %v", status, body)
	}
	listen := body["listen"].(string)
	if status, body := do(t, api, "POST", "/proxies", `{"name":"redis","upstream":"`+up+`"}`); status != 409 || body["status"] != 409.0 {
		t.Fatalf("duplicate proxy: %d %v", status, body)
	}
	status, body = do(t, api, "POST", "/proxies/redis/toxics", `{"type":"latency","stream":"downstream","toxicity":1,"attributes":{"latency":300,"jitter":0}}`)
	if status != 200 || body["name"] != "latency_downstream" {
		t.Fatalf("add toxic: %d %v", status, body)
	}
	c := mustDial(t, listen)
	if _, d := roundTrip(t, c, "x"); d < 300*time.Millisecond {
		t.Fatalf("latency toxic: round trip %v", d)
	}
	if status, _ := do(t, api, "POST", "/proxies/redis/toxics", `{"type":"slow_close"}`); status != 400 {
		t.Fatalf("unsupported toxic: %d", status)
	}
	if status, _ := do(t, api, "GET", "/proxies", ""); status != 200 {
		t.Fatalf("list proxies: %d", status)
	}
	if status, _ := do(t, api, "DELETE", "/proxies/redis/toxics/latency_downstream", ""); status != 204 {
		t.Fatalf("delete toxic: %d", status)
	}
	// Well under the 300 ms toxic, with room for a loaded CI machine.
	if _, d := roundTrip(t, c, "y"); d >= 200*time.Millisecond {
		t.Fatalf("after delete: round trip %v", d)
	}
	if status, _ := do(t, api, "DELETE", "/proxies/redis", ""); status != 204 {
		t.Fatalf("delete proxy: %d", status)
	}
}
