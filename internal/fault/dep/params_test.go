package dep_test

import (
	"errors"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/fault"
	_ "github.com/bulwarkhq/bulwark/internal/fault/dep"
)

// TestBadInput checks that bad parameters come back as *fault.ParamError
// naming the parameter.
func TestBadInput(t *testing.T) {
	tests := []struct {
		kind   string
		params map[string]string
		param  string
	}{
		{"dep.slow", map[string]string{"delay": "1s"}, "target"},
		{"dep.slow", map[string]string{"target": "127.0.0.1:9090"}, "delay"},
		{"dep.slow", map[string]string{"target": "127.0.0.1", "delay": "1s"}, "target"},
		{"dep.slow", map[string]string{"target": "127.0.0.1:0", "delay": "1s"}, "target"},
		{"dep.slow", map[string]string{"target": "a;rm -rf /:80", "delay": "1s"}, "target"},
		{"dep.slow", map[string]string{"target": "$(id):80", "delay": "1s"}, "target"},
		{"dep.slow", map[string]string{"target": "0.0.0.0:80", "delay": "1s"}, "target"},
		{"dep.slow", map[string]string{"target": "h:80", "delay": "1s", "percent": "101"}, "percent"},
		{"dep.slow", map[string]string{"target": "h:80", "delay": "1s", "per": "packet"}, "per"},
		{"dep.slow", map[string]string{"target": "h:80", "delay": "1s", "framing": "xml"}, "framing"},
		{"dep.slow", map[string]string{"target": "h:80", "delay": "1s", "header": "novalue"}, "header"},
		{"dep.slow", map[string]string{"target": "h:80", "delay": "1s", "path": "/a/[", "framing": "http1"}, "path"},
		{"dep.slow", map[string]string{"target": "h:80", "delay": "1s", "framing": "length", "length-size": "3"}, "length-size"},
		{"dep.error", map[string]string{"target": "h:80", "status": "99"}, "status"},
		{"dep.error", map[string]string{"target": "h:80", "corrupt": "true", "truncate": "true"}, "truncate"},
		{"dep.error", map[string]string{"target": "h:80", "grpc-status": "17"}, "grpc-status"},
		{"dep.tls", map[string]string{"target": "h:443", "cert": "self-signed"}, "cert"},
		{"dep.hang", map[string]string{"target": "h:80", "after-frames": "-1"}, "after-frames"},
		{"dep.down", map[string]string{"target": "h:80", "bogus": "1"}, "bogus"},
	}
	for _, tt := range tests {
		k, err := fault.Lookup(tt.kind)
		if err != nil {
			t.Fatal(err)
		}
		_, err = fault.Decode(k.Info(), tt.params)
		var pe *fault.ParamError
		if !errors.As(err, &pe) || pe.Param != tt.param {
			t.Errorf("%s %v: %v, want a ParamError on --%s", tt.kind, tt.params, err, tt.param)
		}
	}
	k, _ := fault.Lookup("dep.slow")
	if _, err := fault.Decode(k.Info(), map[string]string{"target": "redis.internal:6379", "delay": "300ms", "header": "x-a=1"}); err != nil {
		t.Errorf("valid params: %v", err)
	}
}
