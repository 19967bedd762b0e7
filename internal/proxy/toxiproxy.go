package proxy

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// toxic is a Toxiproxy toxic as its clients send and read it.
type toxic struct {
	Name       string             `json:"name"`
	Type       string             `json:"type"`
	Stream     string             `json:"stream"`
	Toxicity   float64            `json:"toxicity"`
	Attributes map[string]float64 `json:"attributes"`
}

// toxiError is Toxiproxy's error shape, kept so its clients can read it.
type toxiError struct {
	status int
	msg    string
}

func (e *toxiError) Error() string { return e.msg }

func (a *API) routeToxiproxy() {
	a.mux.HandleFunc("GET /version", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("bulwark (toxiproxy-compatible subset)"))
	})
	a.mux.HandleFunc("POST /reset", a.toxi(a.reset))
	a.mux.HandleFunc("GET /proxies", a.toxi(a.listProxies))
	a.mux.HandleFunc("POST /proxies", a.toxi(a.createProxy))
	a.mux.HandleFunc("GET /proxies/{proxy}", a.toxi(a.getProxy))
	a.mux.HandleFunc("DELETE /proxies/{proxy}", a.toxi(a.deleteProxy))
	a.mux.HandleFunc("GET /proxies/{proxy}/toxics", a.toxi(a.listToxics))
	a.mux.HandleFunc("POST /proxies/{proxy}/toxics", a.toxi(a.addToxic))
	a.mux.HandleFunc("GET /proxies/{proxy}/toxics/{toxic}", a.toxi(a.getToxic))
	a.mux.HandleFunc("DELETE /proxies/{proxy}/toxics/{toxic}", a.toxi(a.removeToxic))
}

// toxi adapts a handler to Toxiproxy's error shape {"error":…,"status":…}.
func (a *API) toxi(h func(*http.Request) (reply, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		res, err := h(r)
		if err != nil {
			te := &toxiError{status: http.StatusBadRequest, msg: err.Error()}
			errors.As(err, &te)
			res = reply{te.status, map[string]any{"error": te.msg, "status": te.status}}
		}
		writeJSON(w, res)
	}
}

func (ap *apiProxy) view() map[string]any {
	toxics := make([]toxic, 0, len(ap.order))
	for _, n := range ap.order {
		toxics = append(toxics, ap.toxics[n])
	}
	return map[string]any{"name": ap.name, "listen": ap.listen, "upstream": ap.upstream, "enabled": true, "toxics": toxics}
}

func (a *API) lookup(r *http.Request) (*apiProxy, error) {
	ap := a.proxies[r.PathValue("proxy")]
	if ap == nil {
		return nil, &toxiError{http.StatusNotFound, "proxy not found"}
	}
	return ap, nil
}

func (a *API) listProxies(*http.Request) (reply, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]any{}
	for name, ap := range a.proxies {
		out[name] = ap.view()
	}
	return reply{http.StatusOK, out}, nil
}

func (a *API) getProxy(r *http.Request) (reply, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ap, err := a.lookup(r)
	if err != nil {
		return reply{}, err
	}
	return reply{http.StatusOK, ap.view()}, nil
}

func (a *API) createProxy(r *http.Request) (reply, error) {
	var body struct {
		Name     string `json:"name"`
		Listen   string `json:"listen"`
		Upstream string `json:"upstream"`
		Enabled  *bool  `json:"enabled"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<16)).Decode(&body); err != nil {
		return reply{}, &toxiError{http.StatusBadRequest, "bad request body: " + err.Error()}
	}
	if body.Name == "" || body.Upstream == "" {
		return reply{}, &toxiError{http.StatusBadRequest, "missing required field: name and upstream"}
	}
	if body.Listen == "" {
		body.Listen = "127.0.0.1:0"
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.proxies[body.Name] != nil {
		return reply{}, &toxiError{http.StatusConflict, "proxy already exists"}
	}
	if a.create == nil {
		return reply{}, &toxiError{http.StatusNotImplemented, "this proxy does not create proxies"}
	}
	p, listen, err := a.create(body.Name, body.Listen, body.Upstream)
	if err != nil {
		return reply{}, &toxiError{http.StatusInternalServerError, err.Error()}
	}
	ap := &apiProxy{name: body.Name, listen: listen, upstream: body.Upstream, p: p, owned: true, toxics: map[string]toxic{}}
	a.proxies[body.Name] = ap
	return reply{http.StatusCreated, ap.view()}, nil
}

func (a *API) deleteProxy(r *http.Request) (reply, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ap, err := a.lookup(r)
	if err != nil {
		return reply{}, err
	}
	if !ap.owned {
		return reply{}, &toxiError{http.StatusForbidden, "the primary proxy cannot be deleted"}
	}
	delete(a.proxies, ap.name)
	_ = ap.p.Close()
	return reply{status: http.StatusNoContent}, nil
}

func (a *API) listToxics(r *http.Request) (reply, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ap, err := a.lookup(r)
	if err != nil {
		return reply{}, err
	}
	return reply{http.StatusOK, ap.view()["toxics"]}, nil
}

func (a *API) getToxic(r *http.Request) (reply, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ap, err := a.lookup(r)
	if err != nil {
		return reply{}, err
	}
	t, ok := ap.toxics[r.PathValue("toxic")]
	if !ok {
		return reply{}, &toxiError{http.StatusNotFound, "toxic not found"}
	}
	return reply{http.StatusOK, t}, nil
}

func (a *API) addToxic(r *http.Request) (reply, error) {
	t := toxic{Stream: "downstream", Toxicity: 1}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<16)).Decode(&t); err != nil {
		return reply{}, &toxiError{http.StatusBadRequest, "bad request body: " + err.Error()}
	}
	if t.Name == "" {
		t.Name = t.Type + "_" + t.Stream
	}
	f, err := t.fault()
	if err != nil {
		return reply{}, &toxiError{http.StatusBadRequest, err.Error()}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	ap, err := a.lookup(r)
	if err != nil {
		return reply{}, err
	}
	if _, ok := ap.toxics[t.Name]; ok {
		return reply{}, &toxiError{http.StatusConflict, "toxic already exists"}
	}
	if err := ap.p.AddFault(f); err != nil {
		return reply{}, &toxiError{http.StatusBadRequest, err.Error()}
	}
	ap.toxics[t.Name] = t
	ap.order = append(ap.order, t.Name)
	return reply{http.StatusOK, t}, nil
}

func (a *API) removeToxic(r *http.Request) (reply, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ap, err := a.lookup(r)
	if err != nil {
		return reply{}, err
	}
	name := r.PathValue("toxic")
	if _, ok := ap.toxics[name]; !ok {
		return reply{}, &toxiError{http.StatusNotFound, "toxic not found"}
	}
	_ = ap.p.RemoveFault(toxicID(name))
	delete(ap.toxics, name)
	ap.order = slices.DeleteFunc(ap.order, func(n string) bool { return n == name })
	return reply{status: http.StatusNoContent}, nil
}

// reset removes every toxic from every proxy (Bulwark faults stay).
func (a *API) reset(*http.Request) (reply, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ap := range a.proxies {
		for _, n := range ap.order {
			_ = ap.p.RemoveFault(toxicID(n))
		}
		ap.toxics, ap.order = map[string]toxic{}, nil
	}
	return reply{status: http.StatusNoContent}, nil
}

func toxicID(name string) string { return "toxic:" + name }

// fault translates a toxic into the equivalent Bulwark fault.
func (t toxic) fault() (Fault, error) {
	attr := func(k string) float64 { return t.Attributes[k] }
	ms := func(k string) time.Duration { return time.Duration(attr(k) * float64(time.Millisecond)) }
	if t.Toxicity < 0 || t.Toxicity > 1 {
		return Fault{}, fmt.Errorf("toxicity %v is out of range (0 to 1)", t.Toxicity)
	}
	f := Fault{ID: toxicID(t.Name), Percent: t.Toxicity * 100, Per: PerConnection, Direction: Direction(t.Stream)}
	switch t.Type {
	case "latency":
		f.Type, f.Delay, f.Jitter = Slow, ms("latency"), ms("jitter")
		if f.Delay == 0 && f.Jitter == 0 {
			f.Delay = time.Nanosecond // a zero latency toxic is valid in Toxiproxy
		}
	case "bandwidth":
		f.Type, f.Rate = Slow, int64(attr("rate")*1000)
		if f.Rate <= 0 {
			return Fault{}, errors.New("bandwidth rate must be positive")
		}
	case "timeout":
		f.Type, f.Timeout = Hang, ms("timeout")
	case "reset_peer":
		f.Type, f.ResetExisting = Down, true
	case "slicer":
		f.Type, f.SliceSize, f.SliceVariation = Slow, int(attr("average_size")), int(attr("size_variation"))
		f.Delay = time.Duration(attr("delay") * float64(time.Microsecond))
		if f.SliceSize <= 0 {
			return Fault{}, errors.New("slicer average_size must be positive")
		}
		if f.Delay == 0 {
			f.Delay = time.Nanosecond
		}
	case "limit_data":
		f.Type, f.Bytes = Truncate, int64(attr("bytes"))
	default:
		return Fault{}, fmt.Errorf("toxic type %q is not supported (latency, bandwidth, timeout, reset_peer, slicer, limit_data)", t.Type)
	}
	return f, nil
}
