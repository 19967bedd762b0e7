package dep

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/proxy"
)

func init() {
	for _, k := range []fault.Kind{Slow{}, Hang{}, Down{}, Error{}, Truncate{}, TLS{}} {
		fault.Register(k)
	}
}

// The kinds' identifiers.
const (
	IDSlow     = "dep.slow"
	IDHang     = "dep.hang"
	IDDown     = "dep.down"
	IDError    = "dep.error"
	IDTruncate = "dep.truncate"
	IDTLS      = "dep.tls"
)

// Transparent-mode settings recorded in each receipt.
const (
	// Mark is SO_MARK on the helper proxy's upstream sockets; the redirect
	// skips packets carrying it, so the proxy's own traffic goes direct.
	Mark = 0x4b570000
	// ElementTimeout is the kernel-side timeout of the redirect's set
	// elements: if the helper stops refreshing them, new connections go
	// direct again this long after its last refresh (fail-open).
	ElementTimeout = 5 * time.Second
	// RefreshEvery is how often the helper refreshes the elements.
	RefreshEvery = time.Second
	// Drain bounds how long the helper lets proxied connections finish after
	// Recover (never past its deadline).
	Drain = 30 * time.Second
	// helperName is the helper entry point: `bulwark helper dep-proxy …`.
	helperName = "dep-proxy"
	// tablePrefix starts the name of every dep.* table.
	tablePrefix = "bulwark_dep_"
)

// Slow is dep.slow (卡): added latency, jitter or a bandwidth cap.
type Slow struct{ transparent }

// Hang is dep.hang (吊): connections accepted and never answered, or
// stalled after N bytes or frames, optionally passing heartbeats.
type Hang struct{ transparent }

// Down is dep.down (死): new connections reset, optionally existing ones too.
type Down struct{ transparent }

// Error is dep.error (错): HTTP or gRPC error answers, corrupted or
// truncated raw bytes.
type Error struct{ transparent }

// Truncate is dep.truncate: connections cut after N bytes.
type Truncate struct{ transparent }

// TLS is dep.tls: an expired, wrong-name or untrusted certificate.
type TLS struct{ transparent }

func info(id, summary, zh string, newParams func() any) fault.KindInfo {
	return fault.KindInfo{
		ID: id, Summary: summary, SummaryZH: zh,
		Platforms: []string{"linux"}, Outlives: fault.OutlivesNothing,
		ReceiptVersion: 1, NewParams: newParams,
	}
}

// Info implements fault.Kind.
func (Slow) Info() fault.KindInfo {
	return info(IDSlow, "Slow a TCP or HTTP dependency down (delay, jitter, bandwidth) through a transparent fault proxy",
		"依赖变慢（卡）：经透明故障代理增加延迟、抖动或限制带宽", func() any { return new(SlowParams) })
}

// Info implements fault.Kind.
func (Hang) Info() fault.KindInfo {
	return info(IDHang, "Hang a dependency: accept and never answer, or stall after N bytes or frames, heartbeats optional",
		"依赖挂起（吊）：接受连接但不应答，或在 N 字节/帧后停滞，可放行心跳", func() any { return new(HangParams) })
}

// Info implements fault.Kind.
func (Down) Info() fault.KindInfo {
	return info(IDDown, "Take a dependency down: reset new connections, optionally the existing ones too",
		"依赖宕机（死）：重置新连接，可选同时重置已有连接", func() any { return new(DownParams) })
}

// Info implements fault.Kind.
func (Error) Info() fault.KindInfo {
	return info(IDError, "Make a dependency answer with errors: an HTTP status, a gRPC status, or corrupted raw bytes",
		"依赖报错（错）：返回 HTTP 状态码、gRPC 状态，或损坏原始字节", func() any { return new(ErrorParams) })
}

// Info implements fault.Kind.
func (Truncate) Info() fault.KindInfo {
	return info(IDTruncate, "Cut a dependency's connections after N bytes",
		"依赖截断：在 N 字节后切断连接", func() any { return new(TruncateParams) })
}

// Info implements fault.Kind.
func (TLS) Info() fault.KindInfo {
	return info(IDTLS, "Serve an expired, wrong-name or untrusted certificate in place of a dependency's",
		"依赖证书故障：以过期、域名不符或不受信任的证书代替依赖的证书", func() any { return new(TLSParams) })
}

// receiptV1 is version 1 of every dep.* kind's undo record: the redirect's
// table, the helper's identity and everything the helper was started with.
type receiptV1 struct {
	Fault  string       `json:"fault"`
	Target string       `json:"target"`
	Addrs  []netip.Addr `json:"addrs"`
	Port   uint16       `json:"port"`
	// Table is the fault's nftables table, family inet.
	Table          string           `json:"table"`
	Mark           uint32           `json:"mark"`
	ElementTimeout bulwark.Duration `json:"elementTimeout"`
	Refresh        bulwark.Duration `json:"refresh"`
	Drain          bulwark.Duration `json:"drain"`
	Proxy          proxy.Fault      `json:"proxy"`
	Framing        Framing          `json:"framing"`
	Deadline       time.Time        `json:"deadline"`
	Exe            string           `json:"exe"`
	// SynOnly: the redirect matches only a connection's SYN, so an existing
	// connection stays direct even where conntrack picks it up mid-stream
	// (receipts written before this field redirect any first packet).
	SynOnly bool `json:"synOnly,omitempty"`
	// ResetExisting: Apply resets the direct connections to the target open
	// at inject (any kind; older receipts carry it in Proxy for dep.down).
	ResetExisting bool `json:"resetExisting,omitempty"`
	// Set by Apply.
	Helper    *fault.Proc  `json:"helper,omitempty"`
	ProxyPort uint16       `json:"proxyPort,omitempty"`
	Reset     *ResetReport `json:"reset,omitempty"`
	// Existing is how many direct connections to the target were open
	// when the redirect was installed and were left direct (nil: not
	// counted; -1: the kernel could not list them).
	Existing *int `json:"existing,omitempty"`
}

// ResetReport says how --reset-existing reset existing direct
// connections: Method is "sock_destroy", "conntrack" or "unavailable".
type ResetReport struct {
	Method string `json:"method"`
	Count  int    `json:"count"`
	Note   string `json:"note,omitempty"`
}

// decodeReceipt reads any receipt version this binary knows.
func decodeReceipt(r *fault.Receipt) (*receiptV1, error) {
	if r.Version != 1 {
		return nil, fmt.Errorf("%s receipt v%d is not known to this binary: %w", r.Kind, r.Version, bulwark.ErrNewerReceipt)
	}
	var d receiptV1
	if err := r.Decode(&d); err != nil {
		return nil, err
	}
	if !fault.ValidFaultID(d.Fault) || d.Exe == "" || !strings.HasPrefix(d.Table, tablePrefix) {
		return nil, fmt.Errorf("decode %s receipt: no fault id, helper executable or dep table", r.Kind)
	}
	return &d, nil
}

// tableName returns the table of the fault with the given id.
func tableName(id string) (string, error) {
	if !bulwark.ValidID(id) {
		return "", fmt.Errorf("fault id %q is not a UUID", id)
	}
	return tablePrefix + strings.ReplaceAll(id, "-", ""), nil
}

// transparent implements every fault.Kind method but Info for the dep.*
// kinds; the kind-specific part is the params.
type transparent struct{}

// Prepare implements fault.Kind: it validates the target (resolving a host
// name once), refuses the management plane, builds the proxy fault and
// checks that this host can redirect (prepareHost). It changes nothing.
func (transparent) Prepare(ctx context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(params)
	if !ok {
		return nil, fmt.Errorf("prepare dep: params are %T", req.Params)
	}
	k, err := fault.Lookup(p.kindID())
	if err != nil {
		return nil, err
	}
	c := p.common()
	pf, err := proxyFault(p, req.ID)
	if err != nil {
		return nil, err
	}
	table, err := tableName(req.ID)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: %w", p.kindID(), err)
	}
	switch {
	case h.Exe == "":
		return nil, fmt.Errorf("prepare %s: no bulwark executable to start the proxy helper from", p.kindID())
	case req.Deadline.IsZero():
		return nil, fmt.Errorf("prepare %s: no helper deadline", p.kindID())
	}
	addrs, port, err := resolveTarget(ctx, c.Target)
	if err != nil {
		return nil, err
	}
	if err := checkManagement(h, addrs, port); err != nil {
		return nil, err
	}
	hb := false
	if hp, ok := p.(*HangParams); ok {
		hb = hp.Heartbeat
	}
	d := &receiptV1{
		Fault: req.ID, Target: c.Target, Addrs: addrs, Port: port, Table: table, Mark: Mark,
		ElementTimeout: bulwark.Duration(ElementTimeout), Refresh: bulwark.Duration(RefreshEvery),
		Drain: bulwark.Duration(Drain), Proxy: pf, Framing: c.framing(hb),
		Deadline: req.Deadline.UTC(), Exe: h.Exe, SynOnly: true, ResetExisting: c.ResetExisting,
	}
	if _, err := d.Framing.Proxy(); err != nil {
		return nil, &fault.ParamError{Param: "framing", Message: err.Error()}
	}
	if err := prepareHost(ctx, h, d); err != nil {
		return nil, fmt.Errorf("prepare %s: %w", p.kindID(), err)
	}
	return fault.NewReceipt(k.Info(), d.resource(), d)
}

// resource names what a dep fault acts on: the target's addresses and port.
// A second dep.* fault on the same target is refused (two redirects for one
// destination would race for each new connection).
func (d *receiptV1) resource() string {
	parts := make([]string, len(d.Addrs))
	for i, a := range d.Addrs {
		parts[i] = netip.AddrPortFrom(a, d.Port).String()
	}
	return "dep:" + strings.Join(parts, ",")
}

// resolveTarget splits and resolves the target: an IP address as is, a host
// name through the system resolver, once. The addresses are sorted and
// unique; an unspecified or multicast answer is refused.
func resolveTarget(ctx context.Context, target string) ([]netip.Addr, uint16, error) {
	host, port, err := splitTarget(target)
	if err != nil {
		return nil, 0, &fault.ParamError{Param: "target", Message: err.Error()}
	}
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a.Unmap()}
	} else {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		got, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil || len(got) == 0 {
			return nil, 0, &fault.ParamError{Param: "target", Message: fmt.Sprintf("resolve %s: %v", host, err)}
		}
		for _, a := range got {
			a = a.Unmap().WithZone("")
			if a.IsUnspecified() || a.IsMulticast() {
				return nil, 0, &fault.ParamError{Param: "target", Message: fmt.Sprintf("%s resolves to %s, which cannot be a dependency", host, a)}
			}
			addrs = append(addrs, a)
		}
	}
	slices.SortFunc(addrs, func(a, b netip.Addr) int { return a.Compare(b) })
	return slices.Compact(addrs), port, nil
}

// checkManagement refuses a target on the management plane (DESIGN §6.10):
// a protected TCP port or an address in a protected network.
func checkManagement(h *fault.Host, addrs []netip.Addr, port uint16) error {
	if slices.Contains(h.Management.TCPPorts, port) {
		return &fault.ParamError{Param: "target", Message: fmt.Sprintf("port %d is on the management plane and is never faulted", port)}
	}
	for _, a := range addrs {
		for _, n := range h.Management.Networks {
			if n.Contains(a) {
				return &fault.ParamError{Param: "target", Message: fmt.Sprintf("%s is in the management network %s and is never faulted", a, n)}
			}
		}
	}
	return nil
}

var (
	_ fault.Kind = Slow{}
	_ fault.Kind = Hang{}
	_ fault.Kind = Down{}
	_ fault.Kind = Error{}
	_ fault.Kind = Truncate{}
	_ fault.Kind = TLS{}
)
