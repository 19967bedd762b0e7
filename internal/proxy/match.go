package proxy

import (
	"net/http"
	"path"
	"strings"
)

// Request is what a framer knows about an HTTP request when its head has
// been read: enough to match faults against it and to answer it.
type Request struct {
	Method string
	Path   string
	Header http.Header
	// GRPC is set for requests with content-type application/grpc*.
	GRPC bool
	// HTTP2 is set for requests carried on an HTTP/2 stream.
	HTTP2 bool
}

// matches reports whether req satisfies m. A nil req (non-HTTP traffic)
// matches only the zero Match.
func (m *Match) matches(req *Request) bool {
	if m.IsZero() {
		return true
	}
	if req == nil {
		return false
	}
	if m.Method != "" && !strings.EqualFold(m.Method, req.Method) {
		return false
	}
	if m.Path != "" && !pathMatches(m.Path, req.Path) {
		return false
	}
	for k, v := range m.Header {
		if !headerHas(req.Header, k, v) {
			return false
		}
	}
	return true
}

// headerHas reports whether h has a value v for k, also inside
// comma-separated lists.
func headerHas(h http.Header, k, v string) bool {
	for _, got := range h.Values(k) {
		if got == v {
			return true
		}
		for _, part := range strings.Split(got, ",") {
			if strings.TrimSpace(part) == v {
				return true
			}
		}
	}
	return false
}

// isGlob reports whether pattern uses glob syntax.
func isGlob(pattern string) bool { return strings.ContainsAny(pattern, "*?[") }

// pathMatches matches p (query stripped) against a prefix or glob pattern.
// A glob ending in "/**" also matches everything below that directory.
func pathMatches(pattern, p string) bool {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if !isGlob(pattern) {
		return strings.HasPrefix(p, pattern)
	}
	if base, ok := strings.CutSuffix(pattern, "/**"); ok {
		if ok, _ := path.Match(base, p); ok {
			return true
		}
		for dir := path.Dir(p); ; dir = path.Dir(dir) {
			if ok, _ := path.Match(base, dir); ok {
				return true
			}
			if dir == "/" || dir == "." {
				return false
			}
		}
	}
	ok, _ := path.Match(pattern, p)
	return ok
}

// validGlob checks a Match.Path pattern.
func validGlob(pattern string) error {
	if !isGlob(pattern) {
		return nil
	}
	_, err := path.Match(strings.TrimSuffix(pattern, "/**"), "/")
	return err
}
