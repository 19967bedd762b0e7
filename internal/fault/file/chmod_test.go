//go:build linux

package file_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

func TestChmodAndBack(t *testing.T) {
	for _, tc := range []struct {
		name   string
		params map[string]string
		mode   os.FileMode
	}{
		{"unreadable", map[string]string{"mode": "0000"}, 0},
		{"setgid world-writable", map[string]string{"mode": "2666"}, 0o666 | os.ModeSetgid},
		{"owner", map[string]string{"mode": "600", "owner": "65534:65534"}, 0o600},
	} {
		for _, end := range []string{"recover twice", "sweep", "new manager"} {
			t.Run(tc.name+"/"+end, func(t *testing.T) {
				e := newEnv(t)
				p := e.writeFile(t, "key.pem", original(10))
				tc.params["path"] = p
				d := time.Minute
				if end == "sweep" {
					d = 300 * time.Millisecond
				}
				f := e.injectKind(t, "file.chmod", tc.params, d)
				fi, err := os.Stat(p)
				must(t, err)
				if fi.Mode() != tc.mode {
					t.Fatalf("mode %s, want %s", fi.Mode(), tc.mode)
				}
				if tc.params["owner"] != "" && (ownerUID(fi) != 65534) {
					t.Fatalf("owner not changed")
				}
				switch end {
				case "recover twice":
					recoverTwice(t, e, f.ID)
				case "sweep":
					expireBySweep(t, e, f)
				case "new manager":
					recoverInNewManager(t, e, f)
				}
				assertFileMeta(t, p, 0o640, past)
				fi, _ = os.Stat(p)
				if ownerUID(fi) != os.Getuid() {
					t.Fatal("owner not restored")
				}
				assertBytes(t, p, original(10))
				assertStateClean(t, e.state)
			})
		}
	}
}

func TestChmodConflict(t *testing.T) {
	for _, resolve := range []string{"delete claim", "restore by hand"} {
		t.Run(resolve, func(t *testing.T) {
			e := newEnv(t)
			p := e.writeFile(t, "x", original(4))
			f := e.injectKind(t, "file.chmod", map[string]string{"path": p, "mode": "0400"}, time.Minute)
			must(t, os.Chmod(p, 0o644))
			k, _ := fault.Lookup("file.chmod")
			r, err := e.m.Receipt(context.Background(), f.ID)
			must(t, err)
			if _, err := k.(fault.Statuser).Status(context.Background(), e.host, r); err == nil {
				t.Fatal("status: no drift")
			}
			claim := e.state + "/data/" + f.ID + "/claim"
			assertStuck(t, e, f.ID, claim)
			want := os.FileMode(0o644)
			if resolve == "delete claim" {
				must(t, os.Remove(claim))
			} else {
				must(t, os.Chmod(p, 0o640))
				want = 0o640
			}
			mustRecover(t, e.m, f.ID)
			fi, _ := os.Stat(p)
			if fi.Mode() != want {
				t.Fatalf("mode %s, want %s", fi.Mode(), want)
			}
			assertStateClean(t, e.state)
		})
	}
}

func TestChmodBadInput(t *testing.T) {
	e := newEnv(t)
	p := e.writeFile(t, "x", original(4))
	for _, tc := range []badCase{
		{"no mode", map[string]string{"path": p}, "mode", "required"},
		{"not octal", map[string]string{"path": p, "mode": "0888"}, "mode", "not an octal mode"},
		{"too big", map[string]string{"path": p, "mode": "17777"}, "mode", "not an octal mode"},
		{"symbolic", map[string]string{"path": p, "mode": "u+x"}, "mode", "not an octal mode"},
		{"same mode", map[string]string{"path": p, "mode": "640"}, "mode", "change nothing"},
		{"unknown user", map[string]string{"path": p, "mode": "600", "owner": "no-such-user-bulwark"}, "owner", "unknown user"},
		{"empty owner", map[string]string{"path": p, "mode": "600", "owner": ":"}, "owner", "want USER"},
		{"outside", map[string]string{"path": "/etc/shadow", "mode": "600"}, "path", "outside the file roots"},
	} {
		t.Run(tc.name, func(t *testing.T) { e.assertParamError(t, "file.chmod", tc.params, tc.param, tc.msg) })
	}
	e.assertNoJournal(t)
}
