//go:build linux

package tc

import (
	"math"
	"slices"
	"testing"
)

// TestDistTables checks the tables' shape: standardised (mean 0, standard
// deviation 1 in units of 8192, before clipping), sorted, and skewed
// right for pareto.
func TestDistTables(t *testing.T) {
	for _, name := range Distributions {
		tab, err := DistTable(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(tab) != distSize || !slices.IsSorted(tab) {
			t.Fatalf("%s: %d entries, sorted %t", name, len(tab), slices.IsSorted(tab))
		}
		var sum, ss float64
		for _, v := range tab {
			sum += float64(v)
		}
		mean := sum / distSize
		for _, v := range tab {
			ss += (float64(v) - mean) * (float64(v) - mean)
		}
		sd := math.Sqrt(ss / distSize)
		median := float64(tab[distSize/2])
		t.Logf("%s: mean %.0f sd %.0f median %.0f min %d max %d", name, mean, sd, median, tab[0], tab[distSize-1])
		switch name {
		case "normal":
			if math.Abs(mean) > 10 || math.Abs(sd-netemScale) > 100 || math.Abs(median) > 10 {
				t.Errorf("normal: mean %.0f sd %.0f median %.0f, want 0, 8192, 0", mean, sd, median)
			}
		default: // clipping at 4 sd pulls the mean and sd of the long tail in
			if math.Abs(mean) > 0.1*netemScale || sd < 0.7*netemScale || sd > 1.05*netemScale || median >= 0 {
				t.Errorf("%s: mean %.0f sd %.0f median %.0f: want about 0, about 8192, below 0", name, mean, sd, median)
			}
		}
	}
	if _, err := DistTable("lognormal"); err == nil {
		t.Error("an unknown distribution has a table")
	}
}
