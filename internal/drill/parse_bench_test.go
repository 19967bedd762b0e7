package drill_test

import (
	"os"
	"testing"

	"github.com/bulwarkhq/bulwark/internal/drill"
)

func BenchmarkParse(b *testing.B) {
	data, err := os.ReadFile("testdata/nested-groups.good.yaml")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := drill.Parse("x.yaml", data); err != nil {
			b.Fatal(err)
		}
	}
}
