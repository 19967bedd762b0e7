package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/audit"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
)

func auditCommand(g *globals) *cobra.Command {
	return command{
		use:   "audit",
		short: "Verify the audit log and manage its checkpoint key",
		children: []*cobra.Command{
			auditVerifyCommand(g),
			auditKeygenCommand(g),
			auditExportCommand(g),
		},
	}.cobra()
}

type auditVerifyOptions struct {
	db, checkpoints string
	archive         string
	server, token   string
	publicKeys      []string
	json            bool
}

func auditVerifyCommand(g *globals) *cobra.Command {
	var o auditVerifyOptions
	return command{
		use:   "verify",
		short: "Recompute the audit hash chain and check it against its signed checkpoints",
		long: `Recompute the audit log's hash chain from the database and check every
checkpoint: the database's own and, with --checkpoints, the exported copy
(a JSON-lines file written by the file sink). Exit 0 when the log is intact,
1 with "first bad seq N: reason" when it is not, 2 on bad input.`,
		args: cobra.NoArgs,
		flags: func(c *cobra.Command) {
			c.Flags().StringVar(&o.db, "db", "", "database, sqlite:PATH (env BULWARK_DB, default the state directory's bulwark.db)")
			c.Flags().StringVar(&o.checkpoints, "checkpoints", "", "exported checkpoint file (JSON lines) to check against")
			c.Flags().StringArrayVar(&o.publicKeys, "public-key", nil, "ed25519 public key (PEM) that signed the checkpoints; repeat for keys used before a rotation")
			c.Flags().StringVar(&o.server, "server", "", "ask a Bulwark server to verify its log (env BULWARK_SERVER; --db and --archive win)")
			c.Flags().StringVar(&o.token, "token", "", "API token for --server (env BULWARK_TOKEN)")
			c.Flags().StringVar(&o.archive, "archive", "", "verify an archive written by 'audit export' instead of the database")
			c.Flags().BoolVar(&o.json, "json", false, "print the report as JSON")
		},
		run: func(ctx context.Context, _ []string) error { return runAuditVerify(ctx, g, o, g.env.Stdout) },
	}.cobra()
}

func runAuditVerify(ctx context.Context, g *globals, o auditVerifyOptions, w io.Writer) error {
	if o.archive != "" && (o.db != "" || o.checkpoints != "") {
		return usagef("--archive: an archive carries its own checkpoints; give no --db or --checkpoints with it")
	}
	opts := audit.VerifyOptions{CheckpointFile: o.checkpoints}
	for i, path := range o.publicKeys {
		k, err := audit.LoadPublicKey(path)
		if err != nil {
			return usagef("--public-key: %s", bulwark.ErrorMessage(err))
		}
		if i == 0 {
			opts.PublicKey = k
		} else {
			opts.OldKeys = append(opts.OldKeys, k)
		}
	}
	if o.archive != "" {
		return runAuditVerifyArchive(g, o, opts, w)
	}
	if o.db == "" && (o.server != "" || g.env.Getenv("BULWARK_SERVER") != "") {
		if o.checkpoints != "" || len(o.publicKeys) > 0 {
			return usagef("--server: the server checks its own checkpoints and key; give --db to check them yourself")
		}
		return runAuditVerifyRemote(ctx, g, o, w)
	}
	path, err := auditDBPath(g, o.db)
	if err != nil {
		return err
	}
	db := sqlite.NewDB(path)
	if err := db.Open(ctx); err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	rep, err := audit.Verify(ctx, sqlite.NewAuditStore(db), opts)
	if err != nil {
		return err
	}
	printAuditReport(w, g.env.Stderr, rep, o.json)
	if !rep.OK {
		return &ExitError{Code: ExitFailed}
	}
	return nil
}

// auditDBPath resolves --db like the run store does, but refuses a file
// that does not exist: verifying must not create an empty, "intact" log.
func auditDBPath(g *globals, spec string) (string, error) {
	if spec == "" {
		spec = g.env.Getenv("BULWARK_DB")
	}
	if spec == "" {
		spec = "sqlite:" + filepath.Join(g.dir(), "bulwark.db")
	}
	path, ok := strings.CutPrefix(spec, "sqlite:")
	if !ok || path == "" {
		return "", usagef("--db: %q is not sqlite:PATH", spec)
	}
	if _, err := os.Stat(path); err != nil {
		return "", usagef("--db: %v", err)
	}
	return path, nil
}

func printAuditReport(w, ew io.Writer, rep audit.Report, asJSON bool) {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
		return
	}
	if rep.OK {
		fmt.Fprintf(w, "audit log ok: %d entries, %d checkpoints match\n", rep.Entries, rep.Checkpoints)
	} else {
		fmt.Fprintf(w, "first bad seq %d: %s\n", rep.FirstBadSeq, rep.Problem)
	}
	for _, warn := range rep.Warnings {
		fmt.Fprintln(ew, "warning:", warn)
	}
}

func auditKeygenCommand(g *globals) *cobra.Command {
	var out string
	return command{
		use:   "keygen",
		short: "Create the ed25519 key that signs audit checkpoints",
		long: `Write a new ed25519 private key to --out (mode 0600) and its public key to
--out.pub. Keep the private key outside the database, readable only by the
server; give the public key to whoever runs 'bulwark audit verify'.`,
		args: cobra.NoArgs,
		flags: func(c *cobra.Command) {
			c.Flags().StringVar(&out, "out", "", "private key file to create (required)")
		},
		run: func(_ context.Context, _ []string) error { return runAuditKeygen(out, g.env.Stdout) },
	}.cobra()
}

func runAuditKeygen(out string, w io.Writer) error {
	if out == "" {
		return usagef("--out: required")
	}
	for _, p := range []string{out, out + ".pub"} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			return usagef("--out: %s exists; refusing to overwrite a key", p)
		}
	}
	pub, err := audit.GenerateKey(out)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "private key: %s (keep it outside the database, mode 0600)\npublic key:  %s.pub\nkey id:      %s\n",
		out, out, audit.KeyID(pub))
	return nil
}
