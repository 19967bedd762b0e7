package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/bulwarkhq/bulwark/internal/audit"
	"github.com/bulwarkhq/bulwark/internal/store/sqlite"
)

type auditExportOptions struct {
	db, out  string
	from, to int64
}

func auditExportCommand(g *globals) *cobra.Command {
	var o auditExportOptions
	return command{
		use:   "export",
		short: "Archive a range of the audit log, with its checkpoint, to a JSON-lines file",
		long: `Copy entries --from..--to and their checkpoints to --out, a JSON-lines file
that 'bulwark audit verify --archive' checks on its own. Nothing is deleted
from the database. --to must be a checkpointed seq (default: the last one).`,
		args: cobra.NoArgs,
		flags: func(c *cobra.Command) {
			c.Flags().StringVar(&o.db, "db", "", "database, sqlite:PATH (env BULWARK_DB, default the state directory's bulwark.db)")
			c.Flags().Int64Var(&o.from, "from", 1, "first seq")
			c.Flags().Int64Var(&o.to, "to", 0, "last seq, at a checkpoint (default the last checkpoint)")
			c.Flags().StringVar(&o.out, "out", "", "archive file to create (required)")
		},
		run: func(ctx context.Context, _ []string) error { return runAuditExport(ctx, g, o, g.env.Stdout) },
	}.cobra()
}

func runAuditExport(ctx context.Context, g *globals, o auditExportOptions, w io.Writer) error {
	if o.out == "" {
		return usagef("--out: required")
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
	store := sqlite.NewAuditStore(db)
	if o.to == 0 {
		cps, err := store.Checkpoints(ctx)
		if err != nil {
			return err
		}
		if len(cps) == 0 {
			return usagef("--to: the log has no checkpoint yet")
		}
		o.to = cps[len(cps)-1].Seq
	}
	f, err := os.OpenFile(o.out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return usagef("--out: %v", err)
	}
	err = audit.Archive(ctx, store, o.from, o.to, f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return errors.Join(err, os.Remove(o.out))
	}
	fmt.Fprintf(w, "archived seq %d..%d to %s\n", o.from, o.to, o.out)
	return nil
}

// runAuditVerifyArchive verifies an archive file instead of a database.
func runAuditVerifyArchive(g *globals, o auditVerifyOptions, opts audit.VerifyOptions, w io.Writer) error {
	f, err := os.Open(o.archive)
	if err != nil {
		return usagef("--archive: %v", err)
	}
	defer f.Close()
	rep, err := audit.VerifyArchive(f, opts)
	if err != nil {
		return err
	}
	printAuditReport(w, g.env.Stderr, rep, o.json)
	if !rep.OK {
		return &ExitError{Code: ExitFailed}
	}
	return nil
}
