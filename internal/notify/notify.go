// Package notify pushes drill-window notices — start and end, with the
// hosts and systems a drill touches — to webhooks, so that a monitoring or
// alarm platform and the ITSM can tag the alerts of that window as drill
// traffic (演练) and leave them out of SLA figures: mark, don't mute
// (DESIGN §11). Silencing is not this package's business.
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark/internal/i18n"
)

// Events a notice carries.
const (
	EventStart = "drill.window.start"
	EventEnd   = "drill.window.end"
)

// Window is one drill window: an ad-hoc fault fanned out to hosts, or a
// drill run.
type Window struct {
	ID          string    `json:"id"`   // the fault's or run's id
	Kind        string    `json:"kind"` // "fault" or "run"
	Name        string    `json:"name"` // the fault kind or drill name
	Type        string    `json:"type,omitempty"`
	Environment string    `json:"environment,omitempty"`
	Systems     []string  `json:"systems"`
	Hosts       []string  `json:"hosts"`
	StartsAt    time.Time `json:"startsAt"`
	EndsAt      time.Time `json:"endsAt"` // planned end; the actual one on EventEnd
	By          string    `json:"by,omitempty"`
}

// Notice is the JSON body POSTed to every webhook.
type Notice struct {
	Event  string            `json:"event"`
	Tag    map[string]string `json:"tag"`   // {"zh-CN":"演练","en":"drill"}
	Title  map[string]string `json:"title"` // one line per language
	Window Window            `json:"window"`
	Reason string            `json:"reason,omitempty"` // why it ended (expired, recovered, halted)
	SentAt time.Time         `json:"sentAt"`
}

// Webhook is one receiver.
type Webhook struct {
	URL string
	// Token, when set, is sent as a bearer token.
	Token string
}

// Notifier delivers notices in the background, in order per window, with
// retries. It never blocks the caller: a full queue drops the notice and
// logs it (a drill must not wait for a monitoring platform).
type Notifier struct {
	hooks    []Webhook
	client   *http.Client
	log      *slog.Logger
	attempts int
	backoff  time.Duration
	queue    chan Notice
	mu       sync.Mutex // guards closed and sends on queue
	closed   bool
	wg       sync.WaitGroup
	now      func() time.Time
}

// Options tune a Notifier; zero values take the defaults.
type Options struct {
	Timeout  time.Duration // per attempt, default 5s
	Attempts int           // default 4
	Backoff  time.Duration // first retry delay, doubled each time; default 500ms
	Queue    int           // default 1024
	Logger   *slog.Logger
	Now      func() time.Time
}

// New starts a notifier for hooks; Close stops it after delivering what is
// queued.
func New(hooks []Webhook, o Options) *Notifier {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Second
	}
	if o.Attempts <= 0 {
		o.Attempts = 4
	}
	if o.Backoff <= 0 {
		o.Backoff = 500 * time.Millisecond
	}
	if o.Queue <= 0 {
		o.Queue = 1024
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	n := &Notifier{hooks: hooks, client: &http.Client{Timeout: o.Timeout}, log: o.Logger,
		attempts: o.Attempts, backoff: o.Backoff, queue: make(chan Notice, o.Queue), now: o.Now}
	n.wg.Add(1)
	go n.run()
	return n
}

// Start announces that w has begun.
func (n *Notifier) Start(w Window) { n.enqueue(EventStart, w, "") }

// End announces that w has ended, and why.
func (n *Notifier) End(w Window, reason string) { n.enqueue(EventEnd, w, reason) }

func (n *Notifier) enqueue(event string, w Window, reason string) {
	if n == nil || len(n.hooks) == 0 {
		return
	}
	w.Systems, w.Hosts = sorted(w.Systems), sorted(w.Hosts)
	notice := Notice{Event: event, Tag: i18n.Names("notify.tag"), Window: w, Reason: reason, SentAt: n.now().UTC()}
	key := "notify.title.start"
	if event == EventEnd {
		key = "notify.title.end"
	}
	notice.Title = i18n.Names(key, w.Name, len(w.Hosts))
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		n.log.Warn("drill-window notice after close dropped", "event", event, "window", w.ID)
		return
	}
	select {
	case n.queue <- notice:
	default:
		n.log.Error("drill-window notice dropped: queue full", "event", event, "window", w.ID)
	}
}

// Close delivers what is queued (each notice within its retries) and stops;
// later notices are dropped. It is safe to call more than once.
func (n *Notifier) Close() {
	if n == nil {
		return
	}
	n.mu.Lock()
	if !n.closed {
		n.closed = true
		close(n.queue)
	}
	n.mu.Unlock()
	n.wg.Wait()
}

func (n *Notifier) run() {
	defer n.wg.Done()
	for notice := range n.queue {
		for _, h := range n.hooks {
			if err := n.deliver(h, notice); err != nil {
				n.log.Error("drill-window notice not delivered", "url", h.URL, "event", notice.Event, "window", notice.Window.ID, "err", err)
			}
		}
	}
}

// deliver posts notice to h, retrying with doubling backoff on a transport
// error or a non-2xx answer.
func (n *Notifier) deliver(h Webhook, notice Notice) error {
	body, err := json.Marshal(notice)
	if err != nil {
		return err
	}
	delay := n.backoff
	for attempt := 1; ; attempt++ {
		err = n.post(h, body)
		if err == nil || attempt == n.attempts {
			return err
		}
		time.Sleep(delay)
		delay *= 2
	}
}

func (n *Notifier) post(h Webhook, body []byte) error {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if h.Token != "" {
		req.Header.Set("Authorization", "Bearer "+h.Token)
	}
	resp, err := n.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("answered %s", resp.Status)
	}
	return nil
}

func sorted(ss []string) []string {
	out := append([]string{}, ss...)
	sort.Strings(out)
	uniq := out[:0]
	for i, s := range out {
		if s != "" && (i == 0 || s != out[i-1]) {
			uniq = append(uniq, s)
		}
	}
	return uniq
}
