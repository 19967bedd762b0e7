package alert

// Presets returns the built-in generic webhook mappings, by name:
//
// "zabbix" reads the JSON that Bulwark's documented Zabbix webhook media type
// sends, one parameter per macro:
//
//	{"event_id": "{EVENT.ID}", "status": "{EVENT.STATUS}", "severity": "{EVENT.SEVERITY}",
//	 "host": "{HOST.NAME}", "host_ip": "{HOST.IP}", "subject": "{ALERT.SUBJECT}",
//	 "message": "{ALERT.MESSAGE}", "event_date": "{EVENT.DATE}", "event_time": "{EVENT.TIME}",
//	 "event_tags": "{EVENT.TAGSJSON}", "event_ack_status": "{EVENT.ACK.STATUS}",
//	 "event_update_action": "{EVENT.UPDATE.ACTION}", "event_update_user": "{USER.FULLNAME}",
//	 "event_update_date": "{EVENT.UPDATE.DATE}", "event_update_time": "{EVENT.UPDATE.TIME}"}
//
// {EVENT.DATE} and {EVENT.TIME} are the Zabbix server's local time
// ("2024.05.01" "09:31:05"): set TimeZone when that is not Asia/Shanghai.
// Status "RESOLVED" (or "OK") means resolved; "event_ack_status" "Yes" means
// acknowledged by "event_update_user".
//
// "nightingale" reads Nightingale's (n9e v6/v7) callback event: rule_name,
// target_ident, severity, hash, first_trigger_time / trigger_time (Unix
// seconds), is_recovered, tags (["k=v", …]) or tags_map. Nightingale's
// callback carries no acknowledgement; use POST /ack.
func Presets() map[string]Mapping {
	return map[string]Mapping{
		SourceZabbix: {
			ID:             "event_id",
			Title:          "subject",
			Host:           "host",
			HostIP:         "host_ip",
			Severity:       "severity",
			Status:         "status",
			ResolvedValues: []string{"RESOLVED", "OK"},
			StartsAt:       "{{event_date}} {{event_time}}",
			TimeLayout:     "2006.01.02 15:04:05",
			Tags:           "event_tags",
			Labels:         map[string]string{"message": "message"},
			Acked:          "event_ack_status",
			AckedValues:    []string{"Yes"},
			AckedBy:        "event_update_user",
			AckedAt:        "{{event_update_date}} {{event_update_time}}",
		},
		SourceNightingale: {
			ID:             "hash || id",
			Title:          "rule_name",
			Host:           "target_ident",
			Severity:       "severity",
			Status:         "is_recovered",
			ResolvedValues: []string{"true"},
			StartsAt:       "first_trigger_time || trigger_time",
			Tags:           "tags_map || tags",
			Labels:         map[string]string{"rule_id": "rule_id", "cluster": "cluster", "group_name": "group_name"},
		},
	}
}
