//go:build !linux

package testutil

import "errors"

// TakeSnapshot takes a HostSnapshot. Off Linux only the file part is supported:
// set NoNet and NoProcs.
func TakeSnapshot(opts SnapshotOptions) (*HostSnapshot, error) {
	if !opts.NoNet || !opts.NoProcs {
		return nil, errors.New("testutil: network and process snapshots need linux (set NoNet and NoProcs)")
	}
	s := &HostSnapshot{opts: opts, entries: map[string]string{}}
	return s, s.snapFiles()
}
