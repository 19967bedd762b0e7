package report

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/i18n"
)

// Options control rendering. The zero value shows times in Asia/Shanghai.
type Options struct {
	// Location is the deployment's zone: times are stored in UTC and shown
	// in it. Nil means DefaultLocation().
	Location *time.Location
}

func (o Options) loc() *time.Location {
	if o.Location != nil {
		return o.Location
	}
	return DefaultLocation()
}

// Render writes the report of in in format and lang with default options.
// See Options.Render.
func Render(w io.Writer, in *Input, format bulwark.ReportFormat, lang string) error {
	return Options{}.Render(w, in, format, lang)
}

// Render writes the report of in in format: json, md, html or junit. lang
// is "zh-CN" or "en" for md and html; json (both languages) and junit
// (English) are language neutral and accept "" as well. Any other lang is
// an error.
func (o Options) Render(w io.Writer, in *Input, format bulwark.ReportFormat, lang string) error {
	if err := check(in); err != nil {
		return err
	}
	neutral := format == bulwark.ReportJSON || format == bulwark.ReportJUnit
	if lang != "" || !neutral {
		if _, err := i18n.Parse(lang); err != nil {
			return fmt.Errorf("render report: %w", err)
		}
	}
	switch format {
	case bulwark.ReportJSON:
		return renderJSON(w, in, o.loc())
	case bulwark.ReportJUnit:
		return renderJUnit(w, in)
	case bulwark.ReportMarkdown, bulwark.ReportHTML:
		v, err := newView(in, lang, o.loc())
		if err != nil {
			return fmt.Errorf("render report: %w", err)
		}
		if format == bulwark.ReportHTML {
			return renderHTML(w, v)
		}
		return renderMarkdown(w, v)
	}
	return fmt.Errorf("render report: format %q is not json, md, html or junit", format)
}

// check refuses an input no report can be made of.
func check(in *Input) error {
	switch {
	case in == nil || in.Run == nil:
		return errors.New("render report: no run")
	case !safeID().MatchString(in.Run.ID):
		return fmt.Errorf("render report: run id %q is not a plain id", in.Run.ID)
	}
	return nil
}

// safeID is what a run id must look like to become part of a file name.
var safeID = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`) })

// WriteAll writes every report of in with default options. See
// Options.WriteAll.
func WriteAll(dir string, in *Input, langs []string, junitPath string) (map[bulwark.ReportFormat]string, error) {
	return Options{}.WriteAll(dir, in, langs, junitPath)
}

// WriteAll writes the reports of in under dir (created if missing):
// run-<id>.json once, run-<id>.<lang>.md and run-<id>.<lang>.html for each
// of langs (default: zh-CN), and the JUnit file at junitPath unless it is
// empty. It returns the path of each format; for md and html that is the
// first language's file, the others lying beside it. Each file is written
// to a temporary name and renamed, so a reader never sees half a report.
// Languages are checked before anything is written.
func (o Options) WriteAll(dir string, in *Input, langs []string, junitPath string) (map[bulwark.ReportFormat]string, error) {
	if err := check(in); err != nil {
		return nil, err
	}
	if len(langs) == 0 {
		langs = []string{i18n.Default}
	}
	langs = slices.Clone(langs)
	for i, l := range langs {
		c, err := i18n.Parse(l)
		if err != nil {
			return nil, fmt.Errorf("write reports: %w", err)
		}
		langs[i] = c
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("write reports: %w", err)
	}
	base := filepath.Join(dir, "run-"+in.Run.ID)
	paths := map[bulwark.ReportFormat]string{}
	put := func(f bulwark.ReportFormat, lang, path string) error {
		if err := o.writeFile(path, in, f, lang); err != nil {
			return err
		}
		if _, ok := paths[f]; !ok {
			paths[f] = path
		}
		return nil
	}
	if err := put(bulwark.ReportJSON, "", base+".json"); err != nil {
		return paths, err
	}
	for _, l := range langs {
		for _, f := range []bulwark.ReportFormat{bulwark.ReportMarkdown, bulwark.ReportHTML} {
			if err := put(f, l, base+"."+l+"."+string(f)); err != nil {
				return paths, err
			}
		}
	}
	if junitPath != "" {
		if err := put(bulwark.ReportJUnit, "", junitPath); err != nil {
			return paths, err
		}
	}
	return paths, nil
}

// writeFile renders one report into path through a temporary file.
func (o Options) writeFile(path string, in *Input, f bulwark.ReportFormat, lang string) error {
	var buf bytes.Buffer
	if err := o.Render(&buf, in, f, lang); err != nil {
		return err
	}
	if d := filepath.Dir(path); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
