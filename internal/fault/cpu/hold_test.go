package cpu

import (
	"math"
	"testing"
)

func TestHoldBurn(t *testing.T) {
	for _, tc := range []struct {
		name   string
		target float64
		other  []float64
		want   []float64
	}{
		{"idle core", 60, []float64{0}, []float64{60}},
		{"some load", 60, []float64{25}, []float64{35}},
		{"already above", 60, []float64{80}, []float64{0}},
		{"never negative", 10, []float64{30, 30}, []float64{0, 0}},
		{"fills the idle core first", 60, []float64{100, 0}, []float64{0, 20}},
		{"levels two cores", 50, []float64{20, 40}, []float64{30, 10}},
		{"uneven, one core above the level", 40, []float64{70, 0, 0}, []float64{0, 25, 25}},
		{"full", 100, []float64{30, 0}, []float64{70, 100}},
		{"bad readings clamped", 50, []float64{-10, 150}, []float64{0, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := holdBurn(tc.target, tc.other)
			for i := range got {
				if math.Abs(got[i]-tc.want[i]) > 0.01 {
					t.Fatalf("holdBurn(%v, %v) = %v, want %v", tc.target, tc.other, got, tc.want)
				}
			}
		})
	}
}

func TestIsHelperArgv(t *testing.T) {
	d := receiptV1{Fault: "F1", Exe: "/usr/bin/bulwark", Percent: 50, Cores: 1, Mode: ModeAdd}
	argv := append([]string{d.Exe}, helperArgs(d, "/s")...)
	if !isHelperArgv(argv, d.Exe, d.Fault) {
		t.Errorf("own command line %q not recognised", argv)
	}
	for _, bad := range [][]string{
		{"/usr/bin/grep", "helper", "cpu-burn", "--fault", "F1"},
		{d.Exe, "helper", "cpu-burn", "--fault", "F2"},
		{d.Exe, "helper", "mem-fill", "--fault", "F1"},
		{d.Exe, "helper", "cpu-burn"},
	} {
		if isHelperArgv(bad, d.Exe, d.Fault) {
			t.Errorf("%q taken for the helper of F1", bad)
		}
	}
}
