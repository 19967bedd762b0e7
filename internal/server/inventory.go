package server

import (
	"net/http"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/inventory"
)

// inventoryRoutes serves the inventory core: reading needs viewer in the
// item's scope (lists are filtered to what the caller may see), writing
// needs admin in it, and a whole import needs a global admin.
func (s *Server) inventoryRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/environments", s.handler(s.listEnvironments))
	mux.HandleFunc("PUT /api/v1/environments/{name}", s.handler(s.putEnvironment))
	mux.HandleFunc("GET /api/v1/systems", s.handler(s.listSystems))
	mux.HandleFunc("GET /api/v1/systems/{name}", s.handler(s.getSystem))
	mux.HandleFunc("PUT /api/v1/systems/{name}", s.handler(s.putSystem))
	mux.HandleFunc("PUT /api/v1/units/{name}", s.handler(s.putUnit))
	mux.HandleFunc("GET /api/v1/hosts", s.handler(s.listHosts))
	mux.HandleFunc("PUT /api/v1/hosts/{hostname}", s.handler(s.putHost))
	mux.HandleFunc("DELETE /api/v1/hosts/{hostname}", s.handler(s.deleteHost))
	mux.HandleFunc("POST /api/v1/inventory/import", s.handler(s.importInventory))
}

func (s *Server) listEnvironments(w http.ResponseWriter, r *http.Request) error {
	envs, err := s.Inventory.Environments(r.Context())
	if err != nil {
		return err
	}
	out, err := visible(s, r, bulwark.RoleViewer, envs, func(e bulwark.Environment) bulwark.Resource {
		return bulwark.Resource{Environment: e.Name}
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"environments": out})
	return nil
}

func (s *Server) putEnvironment(w http.ResponseWriter, r *http.Request) error {
	var e bulwark.Environment
	if err := decodeJSON(r, &e); err != nil {
		return err
	}
	if e.Name == "" {
		e.Name = r.PathValue("name")
	}
	if e.Name != r.PathValue("name") {
		return bulwark.Errorf(bulwark.EINVALID, "name: %q does not match the path's %q", e.Name, r.PathValue("name"))
	}
	// Whether an environment is production-class decides approvals for
	// everything in it, so only a global admin may set it.
	p, err := s.allow(r, bulwark.RoleAdmin, bulwark.Resource{})
	if err != nil {
		return err
	}
	if err := inventory.Validate(&bulwark.Inventory{APIVersion: inventory.APIVersion, Kind: inventory.Kind, Environments: []bulwark.Environment{e}}); err != nil {
		return err
	}
	if err := s.Inventory.PutEnvironment(r.Context(), e); err != nil {
		return err
	}
	s.record(r.Context(), p, "inventory.environment.put", "environment/"+e.Name, e, "ok", "")
	writeJSON(w, http.StatusOK, e)
	return nil
}

func (s *Server) listSystems(w http.ResponseWriter, r *http.Request) error {
	systems, err := s.Inventory.Systems(r.Context())
	if err != nil {
		return err
	}
	out, err := visible(s, r, bulwark.RoleViewer, systems, func(sys bulwark.System) bulwark.Resource {
		return bulwark.Resource{System: sys.Name, Team: sys.OwnerTeam}
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"systems": out})
	return nil
}

func (s *Server) getSystem(w http.ResponseWriter, r *http.Request) error {
	sys, err := s.Inventory.FindSystem(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	if _, err := s.allow(r, bulwark.RoleViewer, bulwark.Resource{System: sys.Name, Team: sys.OwnerTeam}); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sys)
	return nil
}

func (s *Server) putSystem(w http.ResponseWriter, r *http.Request) error {
	var sys bulwark.System
	if err := decodeJSON(r, &sys); err != nil {
		return err
	}
	if sys.Name == "" {
		sys.Name = r.PathValue("name")
	}
	if sys.Name != r.PathValue("name") {
		return bulwark.Errorf(bulwark.EINVALID, "name: %q does not match the path's %q", sys.Name, r.PathValue("name"))
	}
	// An existing system is the admin's of that system (and team); a new
	// one, or moving it to another team, needs admin over the new team too.
	res := bulwark.Resource{System: sys.Name, Team: sys.OwnerTeam}
	p, err := s.allow(r, bulwark.RoleAdmin, res)
	if err != nil {
		return err
	}
	if old, err := s.Inventory.FindSystem(r.Context(), sys.Name); err == nil && old.OwnerTeam != sys.OwnerTeam {
		if _, err := s.allow(r, bulwark.RoleAdmin, bulwark.Resource{System: old.Name, Team: old.OwnerTeam}); err != nil {
			return err
		}
	}
	if err := inventory.Validate(&bulwark.Inventory{APIVersion: inventory.APIVersion, Kind: inventory.Kind, Systems: []bulwark.System{sys}}); err != nil {
		return err
	}
	if err := s.Inventory.PutSystem(r.Context(), sys); err != nil {
		return err
	}
	s.record(r.Context(), p, "inventory.system.put", "system/"+sys.Name, sys, "ok", "")
	writeJSON(w, http.StatusOK, sys)
	return nil
}

func (s *Server) putUnit(w http.ResponseWriter, r *http.Request) error {
	var u bulwark.Unit
	if err := decodeJSON(r, &u); err != nil {
		return err
	}
	if u.Name == "" {
		u.Name = r.PathValue("name")
	}
	if u.Name != r.PathValue("name") {
		return bulwark.Errorf(bulwark.EINVALID, "name: %q does not match the path's %q", u.Name, r.PathValue("name"))
	}
	p, err := s.allow(r, bulwark.RoleAdmin, bulwark.Resource{System: u.System})
	if err != nil {
		return err
	}
	if err := s.Inventory.PutUnit(r.Context(), u); err != nil {
		return err
	}
	s.record(r.Context(), p, "inventory.unit.put", "unit/"+u.Name, u, "ok", "")
	writeJSON(w, http.StatusOK, u)
	return nil
}

func (s *Server) listHosts(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	hosts, err := s.Inventory.Hosts(r.Context(), bulwark.HostFilter{System: q.Get("system"), Unit: q.Get("unit"), Environment: q.Get("environment")})
	if err != nil {
		return err
	}
	out, err := visible(s, r, bulwark.RoleViewer, hosts, func(h bulwark.InventoryHost) bulwark.Resource {
		return bulwark.Resource{System: h.System, Environment: h.Environment}
	})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"hosts": out})
	return nil
}

func (s *Server) putHost(w http.ResponseWriter, r *http.Request) error {
	var h bulwark.InventoryHost
	if err := decodeJSON(r, &h); err != nil {
		return err
	}
	if h.Hostname == "" {
		h.Hostname = r.PathValue("hostname")
	}
	if h.Hostname != r.PathValue("hostname") {
		return bulwark.Errorf(bulwark.EINVALID, "hostname: %q does not match the path's %q", h.Hostname, r.PathValue("hostname"))
	}
	p, err := s.allow(r, bulwark.RoleAdmin, bulwark.Resource{System: h.System, Environment: h.Environment})
	if err != nil {
		return err
	}
	if old, err := s.Inventory.FindHostByName(r.Context(), h.Hostname); err == nil {
		if _, err := s.allow(r, bulwark.RoleAdmin, bulwark.Resource{System: old.System, Environment: old.Environment}); err != nil {
			return err
		}
		h.ID = old.ID
	}
	h, err = s.Inventory.PutHost(r.Context(), h)
	if err != nil {
		return err
	}
	s.record(r.Context(), p, "inventory.host.put", "host/"+h.ID, h, "ok", "")
	writeJSON(w, http.StatusOK, h)
	return nil
}

func (s *Server) deleteHost(w http.ResponseWriter, r *http.Request) error {
	h, err := s.Inventory.FindHostByName(r.Context(), r.PathValue("hostname"))
	if err != nil {
		return err
	}
	p, err := s.allow(r, bulwark.RoleAdmin, bulwark.Resource{System: h.System, Environment: h.Environment})
	if err != nil {
		return err
	}
	if err := s.Inventory.DeleteHost(r.Context(), h.ID); err != nil {
		return err
	}
	s.record(r.Context(), p, "inventory.host.delete", "host/"+h.ID, map[string]string{"hostname": h.Hostname}, "ok", "")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// importInventory takes a YAML inventory document (a CMDB export) and
// applies it in one transaction. It needs a global admin.
func (s *Server) importInventory(w http.ResponseWriter, r *http.Request) error {
	p, err := s.allow(r, bulwark.RoleAdmin, bulwark.Resource{})
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	name := r.URL.Query().Get("name")
	if name == "" {
		name = "request body"
	}
	inv, err := inventory.Parse(name, body)
	if err != nil {
		return err
	}
	res, err := s.Inventory.Import(r.Context(), inv)
	if err != nil {
		s.record(r.Context(), p, "inventory.import", "inventory", inv, "error", bulwark.ErrorMessage(err))
		return err
	}
	s.record(r.Context(), p, "inventory.import", "inventory", inv, "ok", "")
	writeJSON(w, http.StatusOK, res)
	return nil
}
