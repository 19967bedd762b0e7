package demo

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark/internal/proxy"
)

// System is the running sample trading system.
type System struct {
	// OrderURL is the order API's base URL.
	OrderURL string
	// QuotesAddr and StoreAddr are the dependencies as the order API sees
	// them: the fault proxies in front of the real services.
	QuotesAddr, StoreAddr string

	quotesProxy, storeProxy *proxy.Proxy
	servers                 []*http.Server
	listeners               []net.Listener
	wg                      sync.WaitGroup
}

// Proxies returns the fault proxy in front of each dependency, by the
// address the order API dials.
func (s *System) Proxies() map[string]*proxy.Proxy {
	return map[string]*proxy.Proxy{s.QuotesAddr: s.quotesProxy, s.StoreAddr: s.storeProxy}
}

// Start starts the quote service, the store, their proxies and the order
// API on free loopback ports.
func Start(ctx context.Context) (*System, error) {
	s := &System{}
	quotes, err := s.serveHTTP(quoteHandler())
	if err != nil {
		return nil, err
	}
	store, err := s.serveStore()
	if err != nil {
		s.Close()
		return nil, err
	}
	if s.quotesProxy, s.QuotesAddr, err = startProxy(ctx, quotes); err != nil {
		s.Close()
		return nil, err
	}
	if s.storeProxy, s.StoreAddr, err = startProxy(ctx, store); err != nil {
		s.Close()
		return nil, err
	}
	orders, err := s.serveHTTP(orderHandler(s.QuotesAddr, s.StoreAddr))
	if err != nil {
		s.Close()
		return nil, err
	}
	s.OrderURL = "http://" + orders
	return s, nil
}

func startProxy(ctx context.Context, upstream string) (*proxy.Proxy, string, error) {
	cfg := proxy.DefaultConfig()
	cfg.Resolve = proxy.Fixed(upstream)
	p, err := proxy.New(cfg)
	if err != nil {
		return nil, "", err
	}
	addr, err := p.Open(ctx, "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	return p, addr.String(), nil
}

func (s *System) serveHTTP(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	s.servers = append(s.servers, srv)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		srv.Serve(ln)
	}()
	return ln.Addr().String(), nil
}

// Close stops everything and waits for it.
func (s *System) Close() {
	for _, srv := range s.servers {
		srv.Close()
	}
	for _, ln := range s.listeners {
		ln.Close()
	}
	for _, p := range []*proxy.Proxy{s.quotesProxy, s.storeProxy} {
		if p != nil {
			p.Close()
		}
	}
	s.wg.Wait()
}

// quoteHandler serves GET /quote?sym=600000 with a price that moves a little.
func quoteHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /quote", func(w http.ResponseWriter, r *http.Request) {
		sym := r.URL.Query().Get("sym")
		price := 10 + float64(time.Now().UnixMilli()%1000)/1000
		json.NewEncoder(w).Encode(map[string]any{"sym": sym, "price": price})
	})
	return mux
}

// serveStore runs a line-protocol key-value store: "SET k v" → "OK",
// "GET k" → the value or "NIL".
func (s *System) serveStore() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listen: %w", err)
	}
	s.listeners = append(s.listeners, ln)
	var mu sync.Mutex
	data := map[string]string{}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				serveStoreConn(c, &mu, data)
			}()
		}
	}()
	return ln.Addr().String(), nil
}

func serveStoreConn(c net.Conn, mu *sync.Mutex, data map[string]string) {
	defer c.Close()
	sc := bufio.NewScanner(c)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		reply := "ERR"
		mu.Lock()
		switch {
		case len(f) == 3 && f[0] == "SET":
			data[f[1]], reply = f[2], "OK"
		case len(f) == 2 && f[0] == "GET":
			reply = "NIL"
			if v, ok := data[f[1]]; ok {
				reply = v
			}
		}
		mu.Unlock()
		if _, err := fmt.Fprintln(c, reply); err != nil {
			return
		}
	}
}

// orderHandler is the order API: POST /order?sym=&qty= prices the order with
// a quote (200 ms timeout; on a timeout or a refused connection it falls back
// to the last price it saw, which is how a trading gateway degrades) and
// writes it to the store (300 ms timeout, no fallback).
func orderHandler(quotesAddr, storeAddr string) http.Handler {
	client := &http.Client{Timeout: 200 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	var mu sync.Mutex
	last := 10.0
	var seq int
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("POST /order", func(w http.ResponseWriter, r *http.Request) {
		sym, qty := r.URL.Query().Get("sym"), r.URL.Query().Get("qty")
		price, err := quote(r.Context(), client, quotesAddr, sym)
		mu.Lock()
		switch {
		case err == nil:
			last = price
		case errors.Is(err, errQuoteUnavailable):
			price = last // degrade: the last known price
		default:
			mu.Unlock()
			http.Error(w, "quote: "+err.Error(), http.StatusBadGateway)
			return
		}
		seq++
		id := strconv.Itoa(seq)
		mu.Unlock()
		if err := storeOrder(storeAddr, id, fmt.Sprintf("%s:%s@%.3f", sym, qty, price)); err != nil {
			http.Error(w, "store: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"id": id, "sym": sym, "price": price})
	})
	return mux
}

var errQuoteUnavailable = errors.New("quote service unavailable")

// quote asks the quote service for a price. A timeout or a refused or reset
// connection is errQuoteUnavailable; an error answer is passed on as is.
func quote(ctx context.Context, c *http.Client, addr, sym string) (float64, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/quote?sym="+sym, nil)
	resp, err := c.Do(req)
	if err != nil {
		return 0, errQuoteUnavailable
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("quote service answered %s", resp.Status)
	}
	var q struct{ Price float64 }
	if err := json.NewDecoder(resp.Body).Decode(&q); err != nil {
		return 0, errQuoteUnavailable
	}
	return q.Price, nil
}

func storeOrder(addr, id, value string) error {
	c, err := net.DialTimeout("tcp", addr, 300*time.Millisecond)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := fmt.Fprintf(c, "SET order:%s %s\n", id, value); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if strings.TrimSpace(line) != "OK" {
		return fmt.Errorf("store answered %q", strings.TrimSpace(line))
	}
	return nil
}
