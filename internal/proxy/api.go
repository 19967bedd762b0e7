package proxy

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"

	"github.com/bulwarkhq/bulwark"
)

// API is the explicit-mode HTTP API of a running proxy: Bulwark's own fault
// routes on the primary proxy, and a Toxiproxy-compatible subset
// (README.md) over every proxy it knows. It implements http.Handler.
//
//	GET    /faults          → 200 {"faults":[…]}
//	POST   /faults          Fault → 201 {"fault":…}   (percent defaults to 100, id is generated when empty)
//	PUT    /faults          {"faults":[…]} → 200 {"faults":[…]}   (replace the set)
//	GET    /faults/{id}     → 200 {"fault":…}
//	DELETE /faults/{id}     → 204
//
// Errors are {"error":{"code":"invalid|not_found|conflict|internal","message":"…"}}.
type API struct {
	mux     *http.ServeMux
	primary string

	mu      sync.Mutex
	proxies map[string]*apiProxy
	create  func(name, listen, upstream string) (*Proxy, string, error)
}

// apiProxy is a proxy the API knows by name, with its Toxiproxy toxics.
type apiProxy struct {
	name, listen, upstream string
	p                      *Proxy
	owned                  bool // created through the API; closed by it
	toxics                 map[string]toxic
	order                  []string
}

// APIConfig configures an API.
type APIConfig struct {
	// Name, Listen and Upstream describe the primary proxy P.
	Name, Listen, Upstream string
	P                      *Proxy
	// Create, when set, lets POST /proxies create proxies (Toxiproxy). It
	// returns the proxy and the address it listens on. Proxies created this
	// way are closed by API.Close.
	Create func(name, listen, upstream string) (*Proxy, string, error)
}

// NewAPI returns the API for cfg.P.
func NewAPI(cfg APIConfig) *API {
	if cfg.Name == "" {
		cfg.Name = "bulwark"
	}
	a := &API{mux: http.NewServeMux(), primary: cfg.Name, proxies: map[string]*apiProxy{}, create: cfg.Create}
	if cfg.P != nil {
		a.proxies[cfg.Name] = &apiProxy{name: cfg.Name, listen: cfg.Listen, upstream: cfg.Upstream, p: cfg.P, toxics: map[string]toxic{}}
	}
	a.mux.HandleFunc("GET /faults", a.wrap(a.listFaults))
	a.mux.HandleFunc("POST /faults", a.wrap(a.addFault))
	a.mux.HandleFunc("PUT /faults", a.wrap(a.setFaults))
	a.mux.HandleFunc("GET /faults/{id}", a.wrap(a.getFault))
	a.mux.HandleFunc("DELETE /faults/{id}", a.wrap(a.removeFault))
	a.routeToxiproxy()
	return a
}

// ServeHTTP implements http.Handler.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.mux.ServeHTTP(w, r) }

// Close closes the proxies created through the API.
func (a *API) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs []error
	for name, ap := range a.proxies {
		if ap.owned {
			errs = append(errs, ap.p.Close())
			delete(a.proxies, name)
		}
	}
	return errors.Join(errs...)
}

// reply is a handler result: a status and a JSON body (nil for none).
type reply struct {
	status int
	body   any
}

// wrap adapts a handler, encoding its result and mapping errors once.
func (a *API) wrap(h func(*http.Request) (reply, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		res, err := h(r)
		if err != nil {
			code := bulwark.ErrorCode(err)
			res = reply{status: statusOf(code), body: map[string]any{"error": map[string]string{"code": code, "message": bulwark.ErrorMessage(err)}}}
		}
		writeJSON(w, res)
	}
}

func writeJSON(w http.ResponseWriter, res reply) {
	if res.body == nil {
		w.WriteHeader(res.status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(res.status)
	_ = json.NewEncoder(w).Encode(res.body)
}

func statusOf(code string) int {
	switch code {
	case bulwark.EINVALID:
		return http.StatusBadRequest
	case bulwark.ENOTFOUND:
		return http.StatusNotFound
	case bulwark.ECONFLICT:
		return http.StatusConflict
	default:
		return http.StatusInternalServerError
	}
}

// apiError maps the proxy's errors to domain errors.
func apiError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound):
		return bulwark.Errorf(bulwark.ENOTFOUND, "%v", err)
	case errors.Is(err, ErrExists):
		return bulwark.Errorf(bulwark.ECONFLICT, "%v", err)
	default:
		return bulwark.Errorf(bulwark.EINVALID, "%v", err)
	}
}

func (a *API) primaryProxy() (*Proxy, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ap := a.proxies[a.primary]
	if ap == nil {
		return nil, bulwark.Errorf(bulwark.ENOTFOUND, "no primary proxy")
	}
	return ap.p, nil
}

func (a *API) listFaults(*http.Request) (reply, error) {
	p, err := a.primaryProxy()
	if err != nil {
		return reply{}, err
	}
	return reply{http.StatusOK, map[string]any{"faults": p.Faults()}}, nil
}

// decodeFault reads one fault over the API defaults (percent 100).
func decodeFault(r *http.Request) (Fault, error) {
	f := Fault{Percent: 100}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&f); err != nil {
		return f, bulwark.Errorf(bulwark.EINVALID, "decode fault: %v", err)
	}
	if f.ID == "" {
		f.ID = newID()
	}
	return f, nil
}

func (a *API) addFault(r *http.Request) (reply, error) {
	p, err := a.primaryProxy()
	if err != nil {
		return reply{}, err
	}
	f, err := decodeFault(r)
	if err != nil {
		return reply{}, err
	}
	if err := p.AddFault(f); err != nil {
		return reply{}, apiError(err)
	}
	got, _ := findFault(p, f.ID)
	return reply{http.StatusCreated, map[string]any{"fault": got}}, nil
}

func (a *API) setFaults(r *http.Request) (reply, error) {
	p, err := a.primaryProxy()
	if err != nil {
		return reply{}, err
	}
	var body struct {
		Faults []json.RawMessage `json:"faults"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<20)).Decode(&body); err != nil {
		return reply{}, bulwark.Errorf(bulwark.EINVALID, "decode faults: %v", err)
	}
	faults := make([]Fault, 0, len(body.Faults))
	for i, raw := range body.Faults {
		f := Fault{Percent: 100}
		if err := json.Unmarshal(raw, &f); err != nil {
			return reply{}, bulwark.Errorf(bulwark.EINVALID, "decode fault %d: %v", i, err)
		}
		if f.ID == "" {
			f.ID = newID()
		}
		faults = append(faults, f)
	}
	if err := p.SetFaults(faults); err != nil {
		return reply{}, apiError(err)
	}
	return reply{http.StatusOK, map[string]any{"faults": p.Faults()}}, nil
}

func (a *API) getFault(r *http.Request) (reply, error) {
	p, err := a.primaryProxy()
	if err != nil {
		return reply{}, err
	}
	f, ok := findFault(p, r.PathValue("id"))
	if !ok {
		return reply{}, bulwark.Errorf(bulwark.ENOTFOUND, "fault %q not found", r.PathValue("id"))
	}
	return reply{http.StatusOK, map[string]any{"fault": f}}, nil
}

func (a *API) removeFault(r *http.Request) (reply, error) {
	p, err := a.primaryProxy()
	if err != nil {
		return reply{}, err
	}
	if err := p.RemoveFault(r.PathValue("id")); err != nil {
		return reply{}, apiError(err)
	}
	return reply{status: http.StatusNoContent}, nil
}

func findFault(p *Proxy, id string) (Fault, bool) {
	for _, f := range p.Faults() {
		if f.ID == id {
			return f, true
		}
	}
	return Fault{}, false
}

// newID returns a random fault ID.
func newID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("f-%s", hex.EncodeToString(b[:]))
}
