package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/pki"
)

// SocketPath returns <state-dir>/agent.sock.
func SocketPath(stateDir string) string { return filepath.Join(stateDir, "agent.sock") }

// localFile keeps the ids of faults injected through agent.sock, so that a
// restarted agent does not take them for the server's.
const localFile = "local.json"

// serveSocket serves the host's CLI on agent.sock: 0600, and each
// connection's peer uid (SO_PEERCRED) must be root or the agent's own.
func (a *Agent) serveSocket() (*http.Server, error) {
	path := SocketPath(a.cfg.StateDir)
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale %s: %w", path, err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("chmod %s: %w", path, err)
	}
	srv := &http.Server{Handler: a.socketHandler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(&peerListener{Listener: ln, allow: allowedPeer, log: a.log}); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("agent.sock", "err", err)
		}
	}()
	return srv, nil
}

// allowedPeer lets root and the agent's own user in.
func allowedPeer(uid uint32) bool { return uid == 0 || int(uid) == os.Getuid() }

func (a *Agent) socketHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/ping", func(w http.ResponseWriter, _ *http.Request) {
		writeSock(w, map[string]string{"agent": a.ID()}, nil)
	})
	mux.HandleFunc("GET /v1/faults", func(w http.ResponseWriter, r *http.Request) {
		faults, err := a.m.Faults(r.Context(), bulwark.FaultFilter{Live: r.URL.Query().Get("all") == ""})
		writeSock(w, faultsBody{Faults: faults}, err)
	})
	mux.HandleFunc("POST /v1/faults", func(w http.ResponseWriter, r *http.Request) {
		var spec bulwark.FaultSpec
		if err := json.NewDecoder(r.Body).Decode(&spec); err != nil {
			writeSock(w, nil, bulwark.Errorf(bulwark.EINVALID, "decode fault spec: %v", err))
			return
		}
		f, err := a.InjectLocal(r.Context(), spec)
		writeSock(w, f, err)
	})
	mux.HandleFunc("POST /v1/recover", func(w http.ResponseWriter, r *http.Request) {
		var req recoverBody
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			writeSock(w, nil, bulwark.Errorf(bulwark.EINVALID, "decode recover request: %v", err))
			return
		}
		var faults []*bulwark.Fault
		var err error
		if req.All {
			faults, err = a.m.RecoverAll(r.Context())
		} else {
			faults, err = a.m.Recover(r.Context(), req.IDs...)
		}
		a.wakeReport()
		writeSock(w, faultsBody{Faults: faults}, err)
	})
	mux.HandleFunc("POST /v1/sweep", func(w http.ResponseWriter, r *http.Request) {
		faults, err := a.m.Sweep(r.Context())
		a.wakeReport()
		writeSock(w, faultsBody{Faults: faults}, err)
	})
	return mux
}

// InjectLocal injects a fault asked for on this host (agent.sock). It goes
// through the same local gate as the server's faults, is reported to the
// server, and is recovered by a halt but not by the lease.
func (a *Agent) InjectLocal(ctx context.Context, spec bulwark.FaultSpec) (*bulwark.Fault, error) {
	spec.ID = bulwark.NewID()
	a.mu.Lock()
	env := a.env
	a.local[spec.ID] = true
	err := a.saveLocalLocked()
	a.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if a.cfg.Gate != nil {
		if err := a.cfg.Gate.Check(ctx, env, spec, time.Now(), time.Now().Add(spec.Duration.Std())); err != nil {
			return nil, bulwark.Errorf(bulwark.EFORBIDDEN, "refused by the agent's gate: %v", err)
		}
	}
	defer a.wakeReport()
	return a.m.Inject(ctx, spec)
}

func (a *Agent) loadLocal() error {
	a.local = map[string]bool{}
	b, err := os.ReadFile(filepath.Join(IdentityDir(a.cfg.StateDir), localFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read local faults: %w", err)
	}
	var ids []string
	if err := json.Unmarshal(b, &ids); err != nil {
		return fmt.Errorf("%s: %w", localFile, err)
	}
	for _, id := range ids {
		a.local[id] = true
	}
	return nil
}

// saveLocalLocked writes the local ids still in the journal's reach; a.mu
// must be held.
func (a *Agent) saveLocalLocked() error {
	b, err := json.Marshal(sortedKeys(a.local))
	if err != nil {
		return err
	}
	return pki.WriteFile(filepath.Join(IdentityDir(a.cfg.StateDir), localFile), b, 0o600)
}

type faultsBody struct {
	Faults []*bulwark.Fault `json:"faults"`
}

type recoverBody struct {
	IDs []string `json:"ids,omitempty"`
	All bool     `json:"all,omitempty"`
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeSock writes v, or err as {"error":{code,message}}. A multi-fault
// recovery that partly failed returns both.
func writeSock(w http.ResponseWriter, v any, err error) {
	w.Header().Set("Content-Type", "application/json")
	if err != nil {
		var body errorBody
		body.Error.Code, body.Error.Message = bulwark.ErrorCode(err), err.Error()
		var be *bulwark.Error
		var pe *fault.ParamError
		switch {
		case errors.As(err, &pe):
			body.Error.Code = bulwark.EINVALID
		case errors.As(err, &be):
			body.Error.Message = be.Message
		}
		w.WriteHeader(http.StatusConflict)
		if v != nil {
			_ = json.NewEncoder(w).Encode(map[string]any{"error": body.Error, "result": v})
			return
		}
		_ = json.NewEncoder(w).Encode(body)
		return
	}
	_ = json.NewEncoder(w).Encode(v)
}
