//go:build linux

// Command faultlatency measures inject→active and recover→gone from the
// command's start, as a user sees them: it runs the bulwark binary for
// process.hang, file.corrupt and net.partition, N times each, and prints the
// medians and p90s next to a baseline measured in the same run (starting
// `bulwark version`, which is the cost of any bulwark command before it does
// anything) and a Go hello-world built in the same run (the cost of any Go
// binary). Run as root; it re-executes itself in fresh network and mount
// namespaces, so net.partition never touches this machine's ruleset, and
// keeps its state and files in a temporary directory.
//
//	go build -o /tmp/bulwark ./cmd/bulwark && go run ./bench/faultlatency -bulwark /tmp/bulwark -n 50
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	bin := flag.String("bulwark", "bulwark", "the bulwark binary")
	n := flag.Int("n", 30, "runs per measure")
	flag.Parse()
	if os.Getenv("FAULTLATENCY_CHILD") == "" {
		reexec()
		return
	}
	if err := run(*bin, *n); err != nil {
		fmt.Fprintln(os.Stderr, "faultlatency:", err)
		os.Exit(1)
	}
}

// reexec runs this program again in new network and mount namespaces.
func reexec() {
	cmd := exec.Command("/proc/self/exe", os.Args[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.Env = append(os.Environ(), "FAULTLATENCY_CHILD=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET | syscall.CLONE_NEWNS}
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "faultlatency: run in new namespaces (needs root):", err)
		os.Exit(1)
	}
}

func run(bin string, n int) error {
	dir, err := os.MkdirTemp("", "faultlatency-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	env := append(os.Environ(), "BULWARK_STATE_DIR="+filepath.Join(dir, "state"), "BULWARK_FILE_ROOTS="+dir)
	file := filepath.Join(dir, "ledger.csv")
	if err := os.WriteFile(file, []byte(strings.Repeat("id,amount\n", 1000)), 0o600); err != nil {
		return err
	}
	sleeper := exec.Command("sleep", "3600")
	if err := sleeper.Start(); err != nil {
		return err
	}
	defer func() { sleeper.Process.Signal(syscall.SIGCONT); sleeper.Process.Kill(); sleeper.Wait() }()

	base := measure(n, func() (time.Duration, error) { return timed(bin, env, "version") })
	fmt.Printf("%-34s %10s %10s %8s\n", "measure", "median", "p90", "÷ base")
	row("baseline: bulwark version", base, base)
	if hello, err := buildHello(dir); err != nil {
		fmt.Fprintln(os.Stderr, "faultlatency: no Go hello-world baseline:", err)
	} else {
		row("Go hello-world (same toolchain)", measure(n, func() (time.Duration, error) { return timed(hello, env) }), base)
	}
	kinds := []kindArgs{
		{"process.hang", []string{"--pid", strconv.Itoa(sleeper.Process.Pid)}},
		{"file.corrupt", []string{"--path", file}},
		{"net.partition", []string{"--destination", "192.0.2.0/24", "--port", "8080", "--protocol", "tcp"}},
	}
	for _, k := range kinds {
		var inj, rec []time.Duration
		for range n {
			cmd := exec.Command(bin, append([]string{"fault", "inject", k.name, "--duration", "1m"}, k.args...)...)
			cmd.Env = env
			start := time.Now()
			out, err := cmd.Output()
			inj = append(inj, time.Since(start))
			if err != nil {
				return fmt.Errorf("inject %s: %v", k.name, err)
			}
			id := strings.TrimSpace(string(out))
			d, err := timed(bin, env, "fault", "recover", id)
			if err != nil {
				return fmt.Errorf("recover %s: %v", k.name, err)
			}
			rec = append(rec, d)
		}
		row(k.name+" inject→active", inj, base)
		row(k.name+" recover→gone", rec, base)
	}
	return inProcess(dir, n, kinds, base)
}

// buildHello builds a Go hello-world with the go command on PATH, so that a
// run separates what starting any Go binary costs on this machine from what
// starting bulwark costs.
func buildHello(dir string) (string, error) {
	src := filepath.Join(dir, "hello")
	if err := os.MkdirAll(src, 0o700); err != nil {
		return "", err
	}
	files := map[string]string{
		"go.mod":  "module hello\n\ngo 1.21\n",
		"main.go": "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello\") }\n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(text), 0o600); err != nil {
			return "", err
		}
	}
	bin := filepath.Join(src, "hello")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v: %s", err, out)
	}
	return bin, nil
}

// kindArgs is a kind and the flags of one inject.
type kindArgs struct {
	name string
	args []string
}

func timed(bin string, env []string, args ...string) (time.Duration, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	start := time.Now()
	err := cmd.Run()
	return time.Since(start), err
}

func measure(n int, fn func() (time.Duration, error)) []time.Duration {
	var out []time.Duration
	for range n {
		if d, err := fn(); err == nil {
			out = append(out, d)
		}
	}
	return out
}

func pct(ds []time.Duration, p int) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[min(len(s)-1, (p*len(s)+99)/100-1)]
}

func row(name string, ds, base []time.Duration) {
	m := pct(ds, 50)
	fmt.Printf("%-34s %10s %10s %8.2f\n", name, m.Round(10*time.Microsecond), pct(ds, 90).Round(10*time.Microsecond), float64(m)/float64(pct(base, 50)))
}
