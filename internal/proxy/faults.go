package proxy

import (
	"fmt"
	"slices"
)

// SetFaults replaces the active fault set. Each fault gets Defaults and must
// Validate; IDs must be unique. The change reaches live connections at
// once: fast-path relays are poked onto the fault path, held data is
// re-evaluated, and a Down fault with ResetExisting resets the proxied
// connections it rolls for.
func (p *Proxy) SetFaults(faults []Fault) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.setLocked(faults)
}

// AddFault adds f to the active set; ErrExists if its ID is in use.
func (p *Proxy) AddFault(f Fault) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	cur := p.faultsLocked()
	for _, g := range cur {
		if g.ID == f.ID {
			return fmt.Errorf("add fault %q: %w", f.ID, ErrExists)
		}
	}
	return p.setLocked(append(cur, f))
}

// RemoveFault removes the fault with id; ErrNotFound if there is none.
// Connections it held are released and drain through the proxy.
func (p *Proxy) RemoveFault(id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	cur := p.faultsLocked()
	i := slices.IndexFunc(cur, func(f Fault) bool { return f.ID == id })
	if i < 0 {
		return fmt.Errorf("remove fault %q: %w", id, ErrNotFound)
	}
	return p.setLocked(slices.Delete(cur, i, i+1))
}

// Faults returns a copy of the active faults, in the order they were set.
func (p *Proxy) Faults() []Fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.faultsLocked()
}

// Certificate returns the certificate (PEM) a TLS fault serves, so tests
// and users can inspect or trust it; ok is false for other faults.
func (p *Proxy) Certificate(id string) (certPEM []byte, ok bool) {
	cp := p.set.Load().certs[id]
	if cp == nil {
		return nil, false
	}
	return cp.pem, true
}

func (p *Proxy) faultsLocked() []Fault {
	list := p.set.Load().list
	out := make([]Fault, len(list))
	for i, f := range list {
		out[i] = *f
	}
	return out
}

// setLocked validates, stores and announces a new set; p.mu is held.
func (p *Proxy) setLocked(faults []Fault) error {
	old := p.set.Load()
	next := &faultSet{certs: map[string]*certPair{}}
	seen := map[string]bool{}
	for _, f := range faults {
		f.Defaults()
		if err := f.Validate(); err != nil {
			return fmt.Errorf("set faults: %w", err)
		}
		if seen[f.ID] {
			return fmt.Errorf("set faults: fault %q: %w", f.ID, ErrExists)
		}
		seen[f.ID] = true
		if f.Type == TLS {
			cp := old.certs[f.ID]
			if cp == nil || cp.mode != f.TLSMode || cp.name != f.ServerName {
				var err error
				if cp, err = newCertPair(f.TLSMode, f.ServerName, p.cfg.Now()); err != nil {
					return fmt.Errorf("set faults: fault %q: %w", f.ID, err)
				}
			}
			next.certs[f.ID] = cp
		}
		next.list = append(next.list, &f)
	}
	p.set.Store(next)
	ch := make(chan struct{})
	close(*p.changed.Swap(&ch))
	for c := range p.conns {
		c.changed(next)
	}
	return nil
}
