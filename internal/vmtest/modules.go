package vmtest

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// NetworkModules are the modules the network engine's tests need in Debian's
// kernel: veth and ifb links; the netem, htb, tbf, prio, sfq and ingress/clsact
// qdiscs; the u32, flower, matchall, basic and fw classifiers; the mirred,
// gact and skbedit actions; nf_tables with the expressions our rules use that
// are not built into nf_tables.ko (numgen, ct, reject, redir with nat chains,
// limit); xfrm_user, without which netlink.NewHandleAt fails. Dependencies (nfnetlink, nf_conntrack, nf_nat, …) are added by Run
// from modules.dep. Treat it as read-only; Run copies it.
var NetworkModules = []string{
	"veth", "ifb",
	"sch_netem", "sch_htb", "sch_tbf", "sch_prio", "sch_sfq", "sch_ingress",
	"cls_u32", "cls_flower", "cls_matchall", "cls_basic", "cls_fw",
	"act_mirred", "act_gact", "act_skbedit",
	"nf_tables", "nft_numgen", "nft_ct", "nft_limit",
	"nft_reject", "nft_reject_inet", "nft_reject_ipv4", "nft_reject_ipv6",
	"nft_chain_nat", "nft_redir",
	"xfrm_user", // netlink.NewHandleAt opens an XFRM socket too
}

// moduleDB is what modules.dep and modules.builtin say about a kernel's modules.
type moduleDB struct {
	dir     string              // lib/modules/VERSION
	path    map[string]string   // module name → path relative to dir
	deps    map[string][]string // module name → names it depends on
	builtin map[string]bool     // names built into the kernel image
	pre     map[string][]string // softdep "pre:" names (modules or aliases)
	post    map[string][]string // softdep "post:" names
	alias   map[string][]string // exact (non-glob) alias → module names
}

// loadModuleDB reads dir/modules.dep and dir/modules.builtin (optional).
func loadModuleDB(dir string) (*moduleDB, error) {
	db := &moduleDB{dir: dir, path: map[string]string{}, deps: map[string][]string{}, builtin: map[string]bool{},
		pre: map[string][]string{}, post: map[string][]string{}, alias: map[string][]string{}}
	depFile := filepath.Join(dir, "modules.dep")
	f, err := os.Open(depFile)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for line := 1; sc.Scan(); line++ {
		mod, deps, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			if strings.TrimSpace(sc.Text()) == "" {
				continue
			}
			return nil, fmt.Errorf("%s:%d: no colon in %q", depFile, line, sc.Text())
		}
		name := moduleName(mod)
		db.path[name] = mod
		for _, d := range strings.Fields(deps) {
			db.deps[name] = append(db.deps[name], moduleName(d))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", depFile, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "modules.builtin")); err == nil {
		for _, l := range strings.Fields(string(b)) {
			db.builtin[moduleName(l)] = true
		}
	}
	db.readSoftdeps(filepath.Join(dir, "modules.softdep"))
	db.readAliases(filepath.Join(dir, "modules.alias"))
	return db, nil
}

// readSoftdeps reads "softdep MOD pre: A B post: C" lines (optional file).
func (db *moduleDB) readSoftdeps(file string) {
	b, err := os.ReadFile(file)
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "softdep" {
			continue
		}
		mod, into := moduleName(f[1]), db.pre
		for _, w := range f[2:] {
			switch w {
			case "pre:":
				into = db.pre
			case "post:":
				into = db.post
			default:
				into[mod] = append(into[mod], w)
			}
		}
	}
}

// readAliases reads the exact aliases of modules.alias (optional file);
// wildcard (device) aliases are of no use here.
func (db *moduleDB) readAliases(file string) {
	b, err := os.ReadFile(file)
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "alias" || strings.ContainsAny(f[1], "*?[") {
			continue
		}
		db.alias[f[1]] = append(db.alias[f[1]], moduleName(f[2]))
	}
}

// softTargets resolves a softdep name: a module, or every module of an alias.
func (db *moduleDB) softTargets(name string) []string {
	if n := moduleName(name); db.path[n] != "" {
		return []string{n}
	}
	var out []string
	for _, m := range db.alias[name] {
		if db.path[m] != "" {
			out = append(out, m)
		}
	}
	return out
}

// moduleName turns a module path or name into the kernel's name for it:
// "kernel/net/sched/sch_netem.ko" → "sch_netem", "nft-numgen" → "nft_numgen".
func moduleName(p string) string {
	base := filepath.Base(p)
	for _, ext := range []string{".xz", ".zst", ".gz"} {
		base = strings.TrimSuffix(base, ext)
	}
	return strings.ReplaceAll(strings.TrimSuffix(base, ".ko"), "-", "_")
}

// loadItem is one module to load: Path relative to the modules directory;
// Optional for soft dependencies, whose failure to load is not an error
// (modprobe ignores them too).
type loadItem struct {
	Path     string
	Optional bool
}

// resolve returns, in load order (each module after everything it depends
// on and after its softdep "pre:" modules, before its "post:" ones), the named
// modules and their dependencies. Built-in modules are left out and returned
// in builtin. An unknown name is an error naming it.
func (db *moduleDB) resolve(names []string) (order []loadItem, builtin []string, err error) {
	done := map[string]bool{}
	index := map[string]int{} // name → position in order
	var unknown []string
	var visit func(name string, stack []string, optional bool) error
	soft := func(names []string, stack []string) error {
		for _, n := range names {
			for _, m := range db.softTargets(n) {
				if err := visit(m, stack, true); err != nil {
					return err
				}
			}
		}
		return nil
	}
	visit = func(name string, stack []string, optional bool) error {
		if done[name] {
			if !optional { // first reached as a soft dependency, now needed
				order[index[name]].Optional = false
			}
			return nil
		}
		for _, s := range stack {
			if s == name && optional {
				return nil // a soft dependency back onto a module being loaded
			}
			if s == name {
				return fmt.Errorf("dependency cycle in %s/modules.dep: %s", db.dir, strings.Join(append(stack, name), " → "))
			}
		}
		if err := soft(db.pre[name], append(stack, name)); err != nil {
			return err
		}
		for _, d := range db.deps[name] {
			if err := visit(d, append(stack, name), optional); err != nil {
				return err
			}
		}
		if db.path[name] == "" {
			return fmt.Errorf("%s/modules.dep: %s needs %s, which has no line of its own", db.dir, stack[len(stack)-1], name)
		}
		done[name], index[name] = true, len(order)
		order = append(order, loadItem{Path: db.path[name], Optional: optional})
		return soft(db.post[name], append(stack, name))
	}
	for _, raw := range names {
		name := moduleName(raw)
		switch {
		case db.path[name] != "":
			if err := visit(name, nil, false); err != nil {
				return nil, nil, err
			}
		case db.builtin[name]:
			builtin = append(builtin, name)
		default:
			unknown = append(unknown, raw)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, nil, fmt.Errorf("vmtest.Options.Modules: no module %s in %s/modules.dep (nor built in)", strings.Join(unknown, ", "), db.dir)
	}
	return order, builtin, nil
}
