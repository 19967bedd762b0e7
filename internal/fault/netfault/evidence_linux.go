//go:build linux

package netfault

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/nftables"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
	"github.com/bulwarkhq/bulwark/internal/fault/netfault/nft"
)

// describe turns a table read back and found as described into evidence:
// where it is, every chain with its rules and counters, every set with what
// it holds, the management plane excluded, and the kernel-side expiry.
func describe(d *partitionV1, st *nft.State, r *fault.Receipt) []bulwark.Evidence {
	where := "this process's network namespace"
	if r.NetNS != nil && r.NetNS.Path != "" {
		where = fmt.Sprintf("network namespace %s (inode %d)", r.NetNS.Path, r.NetNS.Inode)
	} else if r.NetNS != nil {
		where = fmt.Sprintf("network namespace inode %d", r.NetNS.Inode)
	}
	ev := []bulwark.Evidence{fault.Evidence("nftables", true, "table inet %s read back in %s: %s", d.Table, where, d.summary())}
	for _, ch := range st.Chains {
		rules := make([]string, len(ch.Rules))
		var pkts uint64
		for i, rule := range ch.Rules {
			rules[i] = fmt.Sprintf("[%d] %s", rule.Handle, rule.Text)
			pkts += rule.Packets
		}
		verb := "cut"
		if len(d.classify) > 0 {
			verb = "classified"
		}
		ev = append(ev, fault.Evidence("chain "+ch.Name, true, "hook %s priority %d policy accept, %d rules, %d packets %s so far: %s",
			hookName(ch), int32(ch.Priority), len(ch.Rules), pkts, verb, strings.Join(rules, "; ")))
	}
	for _, s := range st.Sets {
		ev = append(ev, fault.Evidence("set "+s.Name, true, "%s%s: %s", s.Key, setFlags(s), strings.Join(elementsText(s), ", ")))
	}
	ev = append(ev, managementEvidence(d))
	ev = append(ev, expiryEvidence(d))
	return ev
}

func hookName(ch nft.ChainState) string {
	if ch.Hook == *nftables.ChainHookPostrouting {
		return "postrouting"
	}
	switch ch.Name {
	case chainEgress:
		return "output"
	case chainIngress:
		return "input"
	}
	return fmt.Sprint(ch.Hook)
}

func setFlags(s nft.SetState) string {
	var f []string
	if s.Interval {
		f = append(f, "interval")
	}
	if s.Constant {
		f = append(f, "constant")
	}
	if s.HasTimeout {
		f = append(f, "timeout")
	}
	if len(f) == 0 {
		return ""
	}
	return " (" + strings.Join(f, ", ") + ")"
}

// elementsText lists what a set holds, with the time left on elements that
// expire.
func elementsText(s nft.SetState) []string {
	out := s.ElementRanges()
	var left time.Duration
	for _, e := range s.Elements {
		if e.Expires > 0 && (left == 0 || e.Expires < left) {
			left = e.Expires
		}
	}
	if left > 0 {
		out = append(out, fmt.Sprintf("expiring in %v", left))
	}
	return out
}

func managementEvidence(d *partitionV1) bulwark.Evidence {
	if len(d.ManagementPorts) == 0 && len(d.ManagementNetworks) == 0 {
		return fault.Evidence("management", true, "no management plane configured to exclude")
	}
	var parts []string
	if len(d.ManagementPorts) > 0 {
		parts = append(parts, fmt.Sprintf("tcp ports %v (source and destination)", d.ManagementPorts))
	}
	if len(d.ManagementNetworks) > 0 {
		parts = append(parts, fmt.Sprintf("remote networks %v", d.ManagementNetworks))
	}
	return fault.Evidence("management", true, "accepted before any cut in every chain: %s", strings.Join(parts, "; "))
}

func expiryEvidence(d *partitionV1) bulwark.Evidence {
	switch {
	case d.ElementTimeout > 0 && d.KernelExpiry != nil:
		return fault.Evidence("kernel-expiry", true, "the cut addresses expire in the kernel at %s (duration + %v) even with no bulwark process alive",
			d.KernelExpiry.Format(time.RFC3339Nano), expirySlack)
	case d.TimeoutNote != "":
		return fault.Evidence("kernel-expiry", true, "no kernel-side expiry: %s", d.TimeoutNote)
	}
	return fault.Evidence("kernel-expiry", true, "no kernel-side expiry: the fault has no duration")
}
