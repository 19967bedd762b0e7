// Package nft is a small, reusable layer over google/nftables for fault kinds
// that keep their rules in a table of their own (DESIGN §4.1.1, §14).
//
// A Table describes everything a fault adds to the kernel: its sets (address
// prefixes and ports, optionally with kernel-side element timeouts) and its
// base chains with their rules. Create adds the whole table in one atomic
// netlink batch; Probe proves that the kernel accepts a table without leaving
// anything behind (the same batch followed by the table's deletion); Delete
// removes a table by name and is idempotent; Read dumps a table back and
// Compare says how it differs from its description.
//
// Every Conn is bound to one network namespace: a path to a namespace file
// (/run/netns/NAME, /proc/PID/ns/net), checked against the inode recorded at
// inject, or the process's own namespace. No code here switches a thread's
// namespace, and nothing shells out to nft.
//
// The package builds on Linux only; on other platforms it is empty.
package nft
