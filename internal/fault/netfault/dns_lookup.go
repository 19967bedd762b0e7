package netfault

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

func init() { fault.RegisterHelper(dnsLookupHelper, runDNSLookup) }

// dnsLookupHelper resolves names through the Go resolver in a fresh process:
// `bulwark helper net-dns-lookup NAME…` prints {"name": ["addr", …]}.
const dnsLookupHelper = "net-dns-lookup"

// goHostsFile is the file the Go resolver (and glibc) read.
const goHostsFile = "/etc/hosts"

// lookupTimeout bounds the lookup helper.
const lookupTimeout = 5 * time.Second

// runDNSLookup is the body of the lookup helper.
func runDNSLookup(ctx context.Context, args []string) error {
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	res := &net.Resolver{PreferGo: true}
	out := map[string][]string{}
	for _, n := range args {
		if _, err := canonicalName(n); err != nil {
			return err
		}
		ips, err := res.LookupNetIP(ctx, "ip", n)
		if err != nil {
			out[n] = []string{"error: " + err.Error()}
			continue
		}
		for _, ip := range ips {
			out[n] = append(out[n], ip.Unmap().String())
		}
	}
	return json.NewEncoder(os.Stdout).Encode(out)
}

// lookupEffect resolves the fault's names in a fresh process and checks each
// resolves to exactly the fault's addresses. It runs only where the hosts
// file is the one resolvers read; elsewhere the evidence says the effect was
// only read back.
func lookupEffect(ctx context.Context, d *dnsV1) (bulwark.Evidence, error) {
	if filepath.Clean(d.HostsFile) != goHostsFile {
		return fault.Evidence("lookup", true, "not measured: %s is not %s, which resolvers read; the block was only read back", d.HostsFile, goHostsFile), nil
	}
	if d.Exe == "" {
		return fault.Evidence("lookup", true, "not measured: no bulwark executable to resolve in a fresh process; the block was only read back"), nil
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout+time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, d.Exe, append([]string{"helper", dnsLookupHelper}, d.Names...)...)
	cmd.Dir = "/"
	var stderr strings.Builder
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		return fault.Evidence("lookup", true, "not measured: the lookup helper failed (%v: %s); the block was only read back", err, strings.TrimSpace(stderr.String())), nil
	}
	var got map[string][]string
	if err := json.Unmarshal(b, &got); err != nil {
		return fault.Evidence("lookup", true, "not measured: the lookup helper's output %q: %v; the block was only read back", b, err), nil
	}
	want := make([]string, len(d.Addresses))
	for i, a := range d.Addresses {
		want[i] = a.String()
	}
	slices.Sort(want)
	var res, bad []string
	for _, n := range d.Names {
		g := slices.Clone(got[n])
		slices.Sort(g)
		res = append(res, fmt.Sprintf("%s -> %s", n, strings.Join(g, ", ")))
		if !slices.Equal(g, want) {
			bad = append(bad, n)
		}
	}
	if len(bad) > 0 {
		err := fmt.Errorf("the Go resolver in a fresh process does not resolve %s to %s (check the hosts line of /etc/nsswitch.conf): %s",
			strings.Join(bad, ", "), strings.Join(want, ", "), strings.Join(res, "; "))
		return fault.Evidence("lookup", false, "%v", err), err
	}
	return fault.Evidence("lookup", true, "the Go resolver in a fresh process (hosts file and nsswitch order) resolves %s; resolvers that bypass the hosts file (dig, a client's own DNS) and other record types are not affected",
		strings.Join(res, "; ")), nil
}
