package notify_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/notify"
)

// receiver is a webhook that fails its first failFirst requests.
type receiver struct {
	mu        sync.Mutex
	failFirst int
	calls     int
	got       []notify.Notice
	auth      []string
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls++
	if r.calls <= r.failFirst {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var n notify.Notice
	if err := json.NewDecoder(req.Body).Decode(&n); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.got = append(r.got, n)
	r.auth = append(r.auth, req.Header.Get("Authorization"))
}

func TestStartAndEndInOrderWithRetries(t *testing.T) {
	rcv := &receiver{failFirst: 2}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	n := notify.New([]notify.Webhook{{URL: srv.URL, Token: "s3cret"}}, notify.Options{Backoff: time.Millisecond})
	w := notify.Window{ID: "f1", Kind: "fault", Name: "net.delay", Environment: "simulation",
		Systems: []string{"quotes", "order-gateway", "quotes"}, Hosts: []string{"h2", "h1"},
		StartsAt: time.Now(), EndsAt: time.Now().Add(time.Minute)}
	n.Start(w)
	n.End(w, "expired")
	n.Close()

	if len(rcv.got) != 2 {
		t.Fatalf("received %d notices, want 2 (after 2 failed attempts)", len(rcv.got))
	}
	start, end := rcv.got[0], rcv.got[1]
	if start.Event != notify.EventStart || end.Event != notify.EventEnd || end.Reason != "expired" {
		t.Fatalf("events %q then %q (%q)", start.Event, end.Event, end.Reason)
	}
	if start.Tag["zh-CN"] != "演练" || start.Tag["en"] != "drill" {
		t.Fatalf("tag %v", start.Tag)
	}
	if got := start.Window.Systems; len(got) != 2 || got[0] != "order-gateway" {
		t.Fatalf("systems %v, want sorted and unique", got)
	}
	if start.Title["zh-CN"] == "" || start.Title["en"] == "" {
		t.Fatalf("title %v", start.Title)
	}
	if rcv.auth[0] != "Bearer s3cret" {
		t.Fatalf("authorization %q", rcv.auth[0])
	}
}

func TestGivesUpAfterAttempts(t *testing.T) {
	rcv := &receiver{failFirst: 100}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	n := notify.New([]notify.Webhook{{URL: srv.URL}}, notify.Options{Attempts: 3, Backoff: time.Millisecond})
	n.Start(notify.Window{ID: "r1", Kind: "run", Name: "d"})
	n.Close()
	if rcv.calls != 3 || len(rcv.got) != 0 {
		t.Fatalf("calls %d, delivered %d; want 3 attempts and none delivered", rcv.calls, len(rcv.got))
	}
}

func TestNoHooksIsSilent(t *testing.T) {
	var n *notify.Notifier
	n.Start(notify.Window{ID: "x"}) // a nil notifier is valid and does nothing
	n.Close()
	m := notify.New(nil, notify.Options{})
	m.Start(notify.Window{ID: "x"})
	m.Close()
}
