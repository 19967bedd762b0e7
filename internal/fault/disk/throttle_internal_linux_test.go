package disk

import (
	"testing"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// TestDecodeThrottleVersions: version 1 (child) receipts still decode;
// in-place records need version 2, an empty child and the previous values
// of the same device.
func TestDecodeThrottleVersions(t *testing.T) {
	child := throttleReceiptV1{Fault: "f1", Target: fault.Proc{PID: 42, StartTime: 7}, Orig: "/sys/fs/cgroup/blkio/app",
		Child: "/sys/fs/cgroup/blkio/app/bulwark-throttle-f1", CgVer: 1, Limit: ioLimit{Major: 8, Minor: 0, RBps: 1 << 20}}
	inPlace := throttleReceiptV1{Fault: "f1", Target: fault.Proc{PID: 42, StartTime: 7}, Orig: "/sys/fs/cgroup/app.slice/oms.service",
		CgVer: 2, Limit: ioLimit{Major: 8, Minor: 0, RBps: 1 << 20}, InPlace: true, Prev: &ioLimit{Major: 8, Minor: 0}}
	wrongDev := inPlace
	wrongDev.Prev = &ioLimit{Major: 8, Minor: 16}
	withChild := inPlace
	withChild.Child = inPlace.Orig + "/bulwark-throttle-f1"
	for _, tc := range []struct {
		name    string
		version int
		d       throttleReceiptV1
		ok      bool
	}{
		{"child v1", 1, child, true},
		{"child v2", 2, child, true},
		{"in place v2", 2, inPlace, true},
		{"in place v1", 1, inPlace, false},
		{"in place, another device", 2, wrongDev, false},
		{"in place with a child", 2, withChild, false},
		{"v3", 3, child, false},
	} {
		r := &fault.Receipt{Kind: ThrottleID, Version: tc.version}
		if err := r.Set(tc.d); err != nil {
			t.Fatal(err)
		}
		if _, err := decodeThrottle(r); (err == nil) != tc.ok {
			t.Errorf("%s: decode = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}
