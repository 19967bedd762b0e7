package netfault

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// hostsEntry is one name found on an address line of the hosts file.
type hostsEntry struct {
	line  int    // 1-based
	text  string // the whole line
	fault string // the bulwark fault whose block holds it, if any
}

// scanHosts returns, for each of names, where the hosts file maps it.
func scanHosts(content []byte, names []string) map[string][]hostsEntry {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	out := map[string][]hostsEntry{}
	block := ""
	for i, line := range strings.Split(string(content), "\n") {
		if id, ok := strings.CutPrefix(line, "# bulwark fault "); ok {
			if id, ok := strings.CutSuffix(id, " begin"); ok {
				block = id
			} else if _, ok := strings.CutSuffix(id, " end"); ok {
				block = ""
			}
			continue
		}
		data, _, _ := strings.Cut(line, "#")
		f := strings.Fields(data)
		for _, n := range f[min(1, len(f)):] {
			if n = strings.TrimSuffix(strings.ToLower(n), "."); want[n] {
				out[n] = append(out[n], hostsEntry{line: i + 1, text: line, fault: block})
			}
		}
	}
	return out
}

// checkHostsNames refuses names the hosts file already maps: in another
// bulwark fault's block (a conflict), or on someone else's line (the fault
// would not be exact: resolvers that return every match still reach it, and
// net.dns never edits lines it did not write).
func checkHostsNames(path string, content []byte, names []string, self string) error {
	for _, n := range names {
		for _, e := range scanHosts(content, names)[n] {
			switch {
			case e.fault == self && self != "":
				continue
			case e.fault != "":
				return bulwark.Errorf(bulwark.ECONFLICT, "dns:%s: net.dns fault %s already maps it in %s line %d", n, e.fault, path, e.line)
			default:
				return &fault.ParamError{Param: "host", Message: fmt.Sprintf("%s already has an entry in %s line %d (%q); net.dns does not edit lines it did not write, and resolvers that return every match would still reach that address", n, path, e.line, strings.TrimSpace(e.text))}
			}
		}
	}
	return nil
}

// findBlock locates the fault's block: the byte offsets of the start of its
// begin line and the end of its end line (after the newline). found is false
// when neither marker is there; an error means only part of it is.
func findBlock(content []byte, id string) (start, end int, found bool, err error) {
	begin, endMark := markers(id)
	start = lineIndex(content, begin)
	e := lineIndex(content, endMark)
	switch {
	case start < 0 && e < 0:
		return 0, 0, false, nil
	case start < 0 || e < start:
		return 0, 0, true, fmt.Errorf("the fault's begin or end marker is missing or out of order")
	}
	end = e + len(endMark)
	if end < len(content) && content[end] == '\n' {
		end++
	}
	return start, end, true, nil
}

// lineIndex returns the offset of the first line that is exactly line, or -1.
func lineIndex(content []byte, line string) int {
	for off := 0; off < len(content); {
		next := bytes.IndexByte(content[off:], '\n')
		l := content[off:]
		if next >= 0 {
			l = content[off : off+next]
		}
		if string(l) == line {
			return off
		}
		if next < 0 {
			break
		}
		off += next + 1
	}
	return -1
}

// openHosts opens the hosts file for reading and writing in place (it may be
// a bind mount, over which a rename fails with EBUSY) and reads it whole.
func openHosts(path string, flag int) (*os.File, []byte, error) {
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("open hosts file: %w", err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("read hosts file: %w", err)
	}
	return f, b, nil
}

// Prepare checks the names (valid, not denied, not already in the hosts
// file) and computes the block. It changes nothing.
func (k DNS) Prepare(_ context.Context, h *fault.Host, req fault.Request) (*fault.Receipt, error) {
	p, ok := req.Params.(*DNSParams)
	if !ok {
		return nil, fmt.Errorf("prepare %s: params are %T", DNSID, req.Params)
	}
	if !bulwark.ValidID(req.ID) {
		return nil, fmt.Errorf("prepare %s: fault id %q is not a UUID", DNSID, req.ID)
	}
	if h.HostsFile == "" {
		return nil, fmt.Errorf("prepare %s: the host has no hosts file configured", DNSID)
	}
	if err := checkDenied(h, p.Host); err != nil {
		return nil, err
	}
	content, err := os.ReadFile(h.HostsFile)
	if err != nil {
		return nil, fmt.Errorf("prepare %s: read hosts file: %w", DNSID, err)
	}
	if err := checkHostsNames(h.HostsFile, content, p.Host, ""); err != nil {
		return nil, err
	}
	addrs := p.Address
	if p.Mode == DNSFail {
		addrs = failAddresses
	}
	d := dnsV1{
		Fault: req.ID, HostsFile: h.HostsFile, Names: p.Host, Mode: p.Mode, Addresses: addrs,
		Block: dnsBlock(req.ID, p.Mode, p.Host, addrs), Exe: h.Exe,
	}
	return fault.NewReceipt(k.Info(), dnsResource(p.Host), d)
}

// Apply appends the block to the hosts file in place and fsyncs it; only new
// bytes are written, so nothing already in the file is rewritten. A block of
// the fault's already there intact (a repeated Apply) is kept.
func (DNS) Apply(_ context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decodeDNS(r)
	if err != nil {
		return err
	}
	f, content, err := openHosts(d.HostsFile, os.O_RDWR)
	if err != nil {
		return err
	}
	defer f.Close()
	if start, end, found, err := findBlock(content, d.Fault); err != nil || found {
		if err == nil && string(content[start:end]) == d.Block {
			return nil
		}
		return fmt.Errorf("apply %s: %s already holds a damaged block of this fault: %v", DNSID, d.HostsFile, err)
	}
	if err := checkHostsNames(d.HostsFile, content, d.Names, ""); err != nil {
		return err
	}
	add := d.Block
	if len(content) > 0 && content[len(content)-1] != '\n' {
		add = "\n" + add
		d.AddedNewline = true
		if err := r.Set(d); err != nil {
			return err
		}
	}
	if _, err := f.WriteAt([]byte(add), int64(len(content))); err != nil {
		// Take back a partial write, so the file is as before.
		return errors.Join(fmt.Errorf("apply %s: write hosts file: %w", DNSID, err), f.Truncate(int64(len(content))))
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("apply %s: sync hosts file: %w", DNSID, err)
	}
	return nil
}

// readBlock reads the hosts file and checks that the fault's block is there
// exactly as written.
func readBlock(d *dnsV1) ([]byte, error) {
	content, err := os.ReadFile(d.HostsFile)
	if err != nil {
		return nil, fmt.Errorf("read hosts file: %w", err)
	}
	start, end, found, err := findBlock(content, d.Fault)
	switch {
	case err != nil:
		return content, fmt.Errorf("%s: %w", d.HostsFile, err)
	case !found:
		return content, fmt.Errorf("the fault's block is no longer in %s", d.HostsFile)
	case string(content[start:end]) != d.Block:
		return content, fmt.Errorf("the fault's block in %s was changed by someone else", d.HostsFile)
	}
	return content, nil
}

// Verify reads the block back and, where the hosts file is the one the Go
// resolver reads (/etc/hosts), resolves each name in a fresh process (the
// resolver caches the file for a few seconds in a long-lived one) and checks
// it gets exactly the fault's addresses.
func (DNS) Verify(ctx context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeDNS(r)
	if err != nil {
		return nil, err
	}
	if _, err := readBlock(d); err != nil {
		return []bulwark.Evidence{fault.Evidence("hosts file", false, "%v", err)}, fmt.Errorf("verify %s: %w", DNSID, err)
	}
	ev := []bulwark.Evidence{fault.Evidence("hosts file", true, "block of fault %s read back: %s", d.Fault, d.summary())}
	look, err := lookupEffect(ctx, d)
	if look.OK || look.Detail != "" {
		ev = append(ev, look)
	}
	if err != nil {
		return ev, fmt.Errorf("verify %s: %w", DNSID, err)
	}
	return ev, nil
}

// Status reports drift: the block removed or changed, or another line for
// one of the names added since.
func (DNS) Status(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeDNS(r)
	if err != nil {
		return nil, err
	}
	content, err := readBlock(d)
	if err == nil {
		err = checkHostsNames(d.HostsFile, content, d.Names, d.Fault)
	}
	if err != nil {
		return []bulwark.Evidence{fault.Evidence("drift", false, "%v", err)}, fmt.Errorf("net.dns drifted: %w", err)
	}
	return []bulwark.Evidence{fault.Evidence("hosts file", true, "block of fault %s intact: %s", d.Fault, d.summary())}, nil
}

// Recover removes exactly the fault's block, compare-and-swap: only when it
// is there as written. A block someone changed is a conflict, left alone for
// a person (the fault stays stuck); no block at all is recovered already.
// Edits elsewhere in the file are kept. The bytes from the block on are
// rewritten in place and the file fsynced.
func (DNS) Recover(_ context.Context, h *fault.Host, r *fault.Receipt) error {
	d, err := decodeDNS(r)
	if err != nil {
		return err
	}
	f, content, err := openHosts(d.HostsFile, os.O_RDWR)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	start, end, found, err := findBlock(content, d.Fault)
	switch {
	case err != nil:
		return bulwark.Errorf(bulwark.ECONFLICT, "conflict: %s: %v; it was left as it is: remove the remains of the block by hand and the next retry ends the fault", d.HostsFile, err)
	case !found:
		return nil
	case string(content[start:end]) != d.Block:
		return bulwark.Errorf(bulwark.ECONFLICT, "conflict: the block of fault %s in %s was changed by someone else while the fault was active (it is %q, the fault wrote %q), so it was not removed; remove it by hand and the next retry ends the fault",
			d.Fault, d.HostsFile, content[start:end], d.Block)
	}
	if d.AddedNewline && end == len(content) && start > 0 && content[start-1] == '\n' {
		start--
	}
	rest := content[end:]
	if _, err := f.WriteAt(rest, int64(start)); err != nil {
		return fmt.Errorf("recover %s: write hosts file: %w", DNSID, err)
	}
	if err := f.Truncate(int64(start + len(rest))); err != nil {
		return fmt.Errorf("recover %s: truncate hosts file: %w", DNSID, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("recover %s: sync hosts file: %w", DNSID, err)
	}
	return nil
}

// VerifyRecovered checks that no marker of the fault is left in the file.
func (DNS) VerifyRecovered(_ context.Context, h *fault.Host, r *fault.Receipt) ([]bulwark.Evidence, error) {
	d, err := decodeDNS(r)
	if err != nil {
		return nil, err
	}
	content, err := os.ReadFile(d.HostsFile)
	if errors.Is(err, os.ErrNotExist) {
		return []bulwark.Evidence{fault.Evidence("hosts file", true, "%s is gone, and the block with it", d.HostsFile)}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("verify %s recovered: %w", DNSID, err)
	}
	if _, _, found, _ := findBlock(content, d.Fault); found || strings.Contains(string(content), "# bulwark fault "+d.Fault+" ") {
		err := fmt.Errorf("%s still holds lines of fault %s", d.HostsFile, d.Fault)
		return []bulwark.Evidence{fault.Evidence("hosts file", false, "%v", err)}, err
	}
	return []bulwark.Evidence{fault.Evidence("hosts file", true, "no line of fault %s in %s", d.Fault, d.HostsFile)}, nil
}
