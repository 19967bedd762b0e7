//go:build linux

package file_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// ledger is a CSV with a header, quoted fields (a delimiter, a doubled
// quote, a line break inside quotes), CRLF line ends and no final newline.
const ledger = "id,account,amount,memo\r\n" +
	"1,ACC-001,100.50,\"plain\"\r\n" +
	"2,ACC-002,-20.00,\"a, b\"\r\n" +
	"3,ACC-003,7,\"say \"\"hi\"\"\nsecond line\"\r\n" +
	"4,ACC-004,0.10,last"

const fixed = "ACCOUNT       AMOUNTCCY\n" +
	"ACC-001       100.50USD\n" +
	"ACC-002        -2.00EUR\n"

func TestMutateFieldAndExactBytesBack(t *testing.T) {
	cases := []struct {
		name, content string
		params        map[string]string
		want          string // the faulted file
	}{
		{"csv value by header", ledger, map[string]string{"record": "3", "field": "amount", "value": "-25.00"},
			strings.Replace(ledger, "-20.00", "-25.00", 1)},
		{"csv add", ledger, map[string]string{"record": "2", "field": "3", "op": "add:0.01"},
			strings.Replace(ledger, "100.50", "100.51", 1)},
		{"csv negate by match", ledger, map[string]string{"match": "account=ACC-004", "field": "amount", "op": "negate"},
			strings.Replace(ledger, "0.10,last", "-0.10,last", 1)},
		{"csv quoted field keeps its quotes", ledger, map[string]string{"record": "2", "field": "memo", "value": "changed"},
			strings.Replace(ledger, `"plain"`, `"changed"`, 1)},
		{"csv value needing quotes", ledger, map[string]string{"record": "5", "field": "memo", "value": "x,y"},
			strings.Replace(ledger, "last", `"x,y"`, 1)},
		{"csv after an embedded line break", ledger, map[string]string{"record": "4", "field": "amount", "op": "add:-7"},
			strings.Replace(ledger, ",7,", ",0,", 1)},
		{"csv swap", ledger, map[string]string{"record": "2", "op": "swap:1,2"},
			strings.Replace(ledger, "1,ACC-001,", "ACC-001,1,", 1)},
		{"csv empty value", ledger, map[string]string{"record": "5", "field": "memo", "value": ""},
			strings.TrimSuffix(ledger, "last")},
		{"semicolon", "a;b\n1;2\n", map[string]string{"record": "2", "field": "b", "value": "3", "delimiter": ";"}, "a;b\n1;3\n"},
		{"tab", "a\tb\n1\t2\n", map[string]string{"record": "2", "field": "2", "value": "3", "delimiter": "tab"}, "a\tb\n1\t3\n"},
		{"fixed right-aligned", fixed, map[string]string{"record": "2", "field": "2", "op": "add:0.01", "width": "10,10,3"},
			strings.Replace(fixed, "    100.50", "    100.51", 1)},
		{"fixed left-aligned by header", fixed, map[string]string{"match": "1=ACC-002", "field": "CCY", "value": "JPY", "width": "10,10,3"},
			strings.Replace(fixed, "EUR", "JPY", 1)},
	}
	for _, tc := range cases {
		for _, end := range []string{"recover twice", "sweep", "new manager"} {
			t.Run(tc.name+"/"+end, func(t *testing.T) {
				e := newEnv(t)
				p := e.writeFile(t, "recon.csv", []byte(tc.content))
				tc.params["path"] = p
				d := time.Minute
				if end == "sweep" {
					d = 300 * time.Millisecond
				}
				f := e.injectKind(t, "file.mutate", tc.params, d)
				assertBytes(t, p, []byte(tc.want))
				ev, ok := evidence(f, "field-changed")
				if !ok {
					t.Fatalf("no field-changed evidence: %+v", f.Evidence)
				}
				for _, secret := range []string{"ACC-00", "100.5"} {
					if strings.Contains(ev.Detail, secret) {
						t.Fatalf("evidence holds contents: %s", ev.Detail)
					}
				}
				if fi, err := os.Stat(e.backup(f.ID)); err != nil || fi.Mode().Perm() != 0o600 {
					t.Fatalf("backup: %v", err)
				}
				switch end {
				case "recover twice":
					recoverTwice(t, e, f.ID)
				case "sweep":
					expireBySweep(t, e, f)
				case "new manager":
					recoverInNewManager(t, e, f)
				}
				assertBytes(t, p, []byte(tc.content))
				assertFileMeta(t, p, 0o640, past)
				assertStateClean(t, e.state)
			})
		}
	}
}

func TestMutateConflict(t *testing.T) {
	for _, resolve := range []string{"delete backup", "restore original"} {
		t.Run(resolve, func(t *testing.T) {
			e := newEnv(t)
			p := e.writeFile(t, "recon.csv", []byte(ledger))
			f := e.injectKind(t, "file.mutate", map[string]string{"path": p, "record": "2", "field": "amount", "value": "1"}, time.Minute)
			theirs := []byte(ledger + "\r\n5,ACC-005,1,new\r\n")
			must(t, os.WriteFile(p, theirs, 0o640))
			k, _ := fault.Lookup("file.mutate")
			r, err := e.m.Receipt(context.Background(), f.ID)
			must(t, err)
			if _, err := k.(fault.Statuser).Status(context.Background(), e.host, r); err == nil {
				t.Fatal("status: no drift")
			}
			assertStuck(t, e, f.ID, e.backup(f.ID))
			assertBytes(t, p, theirs)
			assertBytes(t, e.backup(f.ID), []byte(ledger))
			want := theirs
			if resolve == "delete backup" {
				must(t, os.Remove(e.backup(f.ID)))
			} else {
				must(t, os.WriteFile(p, []byte(ledger), 0o640))
				want = []byte(ledger)
			}
			mustRecover(t, e.m, f.ID)
			assertBytes(t, p, want)
			assertStateClean(t, e.state)
		})
	}
}

// TestMutateInterrupted: a crash mid-write leaves neither the original nor
// the faulted bytes, and the marker; recovery restores from the backup.
func TestMutateInterrupted(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	k, _ := fault.Lookup("file.mutate")
	p := e.writeFile(t, "x.csv", []byte(ledger))
	pr, err := fault.Decode(k.Info(), map[string]string{"path": p, "record": "2", "field": "memo", "value": "a much longer memo than before"})
	must(t, err)
	r, err := k.Prepare(ctx, e.host, fault.Request{ID: "m1", Params: pr, Duration: time.Minute})
	must(t, err)
	must(t, k.Apply(ctx, e.host, r))
	half := readFile(t, p)[:len(ledger)]
	must(t, os.WriteFile(p, half, 0o640))
	must(t, os.WriteFile(filepath.Join(e.state, "data", "m1", "writing"), nil, 0o600))
	must(t, k.Recover(ctx, e.host, r))
	assertBytes(t, p, []byte(ledger))
	if _, err := k.VerifyRecovered(ctx, e.host, r); err != nil {
		t.Fatal(err)
	}
}

func TestMutateBadInput(t *testing.T) {
	e := newEnv(t)
	p := e.writeFile(t, "l.csv", []byte(ledger))
	bad := e.writeFile(t, "bad.csv", []byte("a,b\n1,\"unterminated\n"))
	fx := e.writeFile(t, "f.txt", []byte(fixed))
	for _, tc := range []badCase{
		{"no record", map[string]string{"path": p, "field": "1", "value": "x"}, "record", "either --record or --match"},
		{"both record and match", map[string]string{"path": p, "record": "1", "match": "id=1", "field": "1", "value": "x"}, "record", "either"},
		{"no value", map[string]string{"path": p, "record": "2", "field": "1"}, "value", "either --value or --op"},
		{"value and op", map[string]string{"path": p, "record": "2", "field": "1", "value": "1", "op": "negate"}, "value", "either"},
		{"no field", map[string]string{"path": p, "record": "2", "value": "1"}, "field", "required"},
		{"swap with field", map[string]string{"path": p, "record": "2", "field": "1", "op": "swap:1,2"}, "field", "swap"},
		{"bad op", map[string]string{"path": p, "record": "2", "field": "1", "op": "multiply:2"}, "op", "not one of"},
		{"bad add", map[string]string{"path": p, "record": "2", "field": "1", "op": "add:1e3"}, "op", "decimal"},
		{"add to text", map[string]string{"path": p, "record": "2", "field": "account", "op": "add:1"}, "op", "not a decimal"},
		{"record past end", map[string]string{"path": p, "record": "9", "field": "1", "value": "x"}, "record", "has 5 records"},
		{"record zero", map[string]string{"path": p, "record": "0", "match": "", "field": "1", "value": "x"}, "record", ""},
		{"unknown header", map[string]string{"path": p, "record": "2", "field": "amt", "value": "x"}, "field", "no field \"amt\""},
		{"field past end", map[string]string{"path": p, "record": "2", "field": "9", "value": "x"}, "field", "has 4 fields"},
		{"no match", map[string]string{"path": p, "match": "account=ACC-999", "field": "1", "value": "x"}, "match", "0 records match"},
		{"match syntax", map[string]string{"path": p, "match": "account", "field": "1", "value": "x"}, "match", "FIELD=VALUE"},
		{"no change", map[string]string{"path": p, "record": "2", "field": "amount", "value": "100.50"}, "value", "change nothing"},
		{"bad delimiter", map[string]string{"path": p, "record": "2", "field": "1", "value": "x", "delimiter": "::"}, "delimiter", "not one character"},
		{"quote delimiter", map[string]string{"path": p, "record": "2", "field": "1", "value": "x", "delimiter": `"`}, "delimiter", "not one character"},
		{"invalid csv", map[string]string{"path": bad, "record": "2", "field": "1", "value": "x"}, "path", "not a valid delimited file"},
		{"bad width", map[string]string{"path": fx, "record": "2", "field": "1", "value": "x", "width": "10,x"}, "width", "positive field widths"},
		{"too wide for fixed", map[string]string{"path": fx, "record": "2", "field": "3", "value": "EURO", "width": "10,10,3"}, "value", "do not fit"},
		{"max size", map[string]string{"path": p, "record": "2", "field": "1", "value": "x", "max-size": "10"}, "path", "more than --max-size"},
		{"outside", map[string]string{"path": "/etc/passwd", "record": "1", "field": "1", "value": "x"}, "path", "outside the file roots"},
	} {
		t.Run(tc.name, func(t *testing.T) { e.assertParamError(t, "file.mutate", tc.params, tc.param, tc.msg) })
	}
	e.assertNoJournal(t)
}
