// Package demo is `bulwark demo`: a small sample trading system and a short
// programme of drills against it, so a newcomer sees the whole platform work
// on one machine with nothing installed but the binary.
//
// The system is three services on loopback: an order API, the quote service
// it calls for prices, and a key-value store it writes orders to. The order
// API reaches both dependencies through explicit fault proxies (no root, no
// nftables), so the dependency faults 卡/吊/死/错 work anywhere. A tiny
// monitor watches the order API and posts Alertmanager alerts to the run's
// alert receiver, so MTTD is measured from alerts, as in production.
package demo
