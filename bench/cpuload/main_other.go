//go:build !linux

// Command cpuload measures cpu.load; it runs on linux only.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "cpuload: linux only")
	os.Exit(1)
}
