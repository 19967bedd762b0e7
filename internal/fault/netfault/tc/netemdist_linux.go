//go:build linux

package tc

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	mdnl "github.com/mdlayher/netlink"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// Distributions are the jitter distributions netem takes a table for
// (uniform, its default, needs none).
var Distributions = []string{"normal", "pareto", "paretonormal"}

// distSize is the number of entries of a distribution table, as in
// iproute2's tables; netemScale is netem's NETEM_DIST_SCALE: an entry is a
// sample of the standardised distribution (mean 0, standard deviation 1)
// times the scale.
const (
	distSize   = 4096
	netemScale = 8192
	paretoA    = 3.0
)

// DistTable returns netem's table for a jitter distribution: normal;
// pareto (shape 3); or paretonormal, the sum of a quarter of a pareto and
// three quarters of a normal variable, standardised (netem's "paretonormal").
// Entries are quantiles at (i+0.5)/4096, clipped to int16 as iproute2's are.
func DistTable(name string) ([]int16, error) {
	var q func(u float64) float64
	switch name {
	case "normal":
		q = normalQuantile
	case "pareto":
		mean, sd := paretoA/(paretoA-1), math.Sqrt(paretoA/((paretoA-1)*(paretoA-1)*(paretoA-2)))
		q = func(u float64) float64 { return (paretoQuantile(u) - mean) / sd }
	case "paretonormal":
		q = paretoNormalQuantile()
	default:
		return nil, fmt.Errorf("no netem table for distribution %q", name)
	}
	out := make([]int16, distSize)
	for i := range out {
		v := math.Round(q((float64(i)+0.5)/distSize) * netemScale)
		out[i] = int16(max(math.MinInt16, min(math.MaxInt16, v)))
	}
	return out, nil
}

func normalQuantile(u float64) float64 { return math.Sqrt2 * math.Erfinv(2*u-1) }

func paretoQuantile(u float64) float64 { return math.Pow(1-u, -1/paretoA) }

// paretoNormalQuantile returns the empirical quantile function of
// 0.25·pareto + 0.75·normal, from a deterministic low-discrepancy sample,
// standardised.
func paretoNormalQuantile() func(float64) float64 {
	const m = distSize * 64
	xs := make([]float64, m)
	var sum float64
	for j := range xs {
		u1 := (float64(j) + 0.5) / m
		u2 := math.Mod(float64(j)*0.6180339887498949+0.5/m, 1)
		xs[j] = 0.25*paretoQuantile(u1) + 0.75*normalQuantile(u2)
		sum += xs[j]
	}
	mean := sum / m
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	sd := math.Sqrt(ss / m)
	slices.Sort(xs)
	return func(u float64) float64 { return (xs[int(u*m)] - mean) / sd }
}

// addNetemDist adds netem qdisc q with a delay distribution table. The
// library cannot send TCA_NETEM_DELAY_DIST, so the request is built with
// its message types and sent on a netlink socket of the tree's namespace
// (mdlayher/netlink enters the namespace only to create the socket).
func (t *Tree) addNetemDist(q *netlink.Netem, dist []int16) error {
	req := nl.NewNetlinkRequest(unix.RTM_NEWQDISC, unix.NLM_F_CREATE|unix.NLM_F_EXCL|unix.NLM_F_ACK)
	req.AddData(&nl.TcMsg{Family: nl.FAMILY_ALL, Ifindex: int32(q.LinkIndex), Handle: q.Handle, Parent: q.Parent})
	req.AddData(nl.NewRtAttr(nl.TCA_KIND, nl.ZeroTerminated("netem")))
	opt := nl.TcNetemQopt{Latency: q.Latency, Limit: q.Limit, Loss: q.Loss, Gap: q.Gap, Duplicate: q.Duplicate, Jitter: q.Jitter}
	options := nl.NewRtAttr(nl.TCA_OPTIONS, opt.Serialize())
	if q.DelayCorr > 0 || q.LossCorr > 0 || q.DuplicateCorr > 0 {
		corr := nl.TcNetemCorr{DelayCorr: q.DelayCorr, LossCorr: q.LossCorr, DupCorr: q.DuplicateCorr}
		options.AddRtAttr(nl.TCA_NETEM_CORR, corr.Serialize())
	}
	b := make([]byte, 0, 2*len(dist))
	for _, v := range dist {
		b = binary.NativeEndian.AppendUint16(b, uint16(v))
	}
	options.AddRtAttr(nl.TCA_NETEM_DELAY_DIST, b)
	req.AddData(options)
	raw := req.Serialize()
	c, err := mdnl.Dial(unix.NETLINK_ROUTE, &mdnl.Config{NetNS: int(t.ns.Fd())})
	if err != nil {
		return fmt.Errorf("open rtnetlink in the interface's namespace: %w", err)
	}
	defer c.Close()
	_, err = c.Execute(mdnl.Message{
		Header: mdnl.Header{Type: mdnl.HeaderType(unix.RTM_NEWQDISC), Flags: mdnl.Request | mdnl.Acknowledge | mdnl.Create | mdnl.Excl},
		Data:   raw[unix.SizeofNlMsghdr:],
	})
	return err
}
