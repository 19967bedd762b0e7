// Package alert receives alerts from monitoring systems during drills and
// decides which of them belong to a drill (DESIGN §5.1 contract 4, §11).
//
// A Receiver is an http.Handler with these routes, relative to where it is
// mounted (the server mounts it under /api/v1/alerts; `drill run
// --alert-listen ADDR` serves it at the root):
//
//	POST /                   Alertmanager webhook (version 4), same as /alertmanager
//	POST /alertmanager       Alertmanager webhook (version 4)
//	POST /webhook/{mapping}  generic JSON webhook, decoded by the named Mapping
//	                         (presets "zabbix" and "nightingale", or configured ones)
//	POST /ack                {"id": "...", "source": "...", "by": "alice", "at": RFC 3339}
//
// Every alert is normalised to an Alert. The receiver keeps the alerts it has
// seen (bounded), deduplicates repeats by source and id (Alertmanager resends
// firing alerts every group_interval), and tells subscribers of every new
// alert and every change of status or acknowledgement.
//
// Time to alert (a machine noticed) and time to acknowledge (a person
// noticed) are measured apart: Alertmanager has no acknowledgements, so a
// responder's tooling (or a chat bot) posts to /ack; generic mappings can
// carry acknowledgement fields (Zabbix's acknowledge updates do).
//
// Correlates decides whether an alert counts for a drill step: it started in
// the step's window [t_active, t_end + grace] and names a selected host (by
// name or IP, in its host labels) or the drill's system.
package alert
