package alert_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark/internal/alert"
)

// Zabbix events as the documented webhook media type sends them: a problem,
// then an acknowledge update, then the recovery.
const (
	zabbixProblem = `{"event_id":"31415","status":"PROBLEM","severity":"High","host":"db01","host_ip":"10.0.0.21",
	  "subject":"Problem: MySQL is down","message":"MySQL on db01 has been down for 1m",
	  "event_date":"2026.05.01","event_time":"09:31:05",
	  "event_tags":"[{\"tag\":\"system\",\"value\":\"order-gateway\"},{\"tag\":\"service\",\"value\":\"mysql\"}]",
	  "event_ack_status":"No","event_update_action":"{EVENT.UPDATE.ACTION}","event_update_user":"{USER.FULLNAME}",
	  "event_update_date":"{EVENT.UPDATE.DATE}","event_update_time":"{EVENT.UPDATE.TIME}"}`
	zabbixAck = `{"event_id":"31415","status":"PROBLEM","severity":"High","host":"db01","host_ip":"10.0.0.21",
	  "subject":"Updated problem: MySQL is down","message":"acknowledged",
	  "event_date":"2026.05.01","event_time":"09:31:05","event_tags":"[]",
	  "event_ack_status":"Yes","event_update_action":"acknowledged","event_update_user":"Zhang Wei",
	  "event_update_date":"2026.05.01","event_update_time":"09:34:40"}`
	zabbixResolved = `{"event_id":"31415","status":"RESOLVED","severity":"High","host":"db01","host_ip":"10.0.0.21",
	  "subject":"Resolved: MySQL is down","message":"","event_date":"2026.05.01","event_time":"09:31:05",
	  "event_tags":"[]","event_ack_status":"Yes","event_update_action":"","event_update_user":"",
	  "event_update_date":"","event_update_time":""}`
)

func TestZabbixPreset(t *testing.T) {
	srv, _, ch := newServer(t, alert.Config{})
	if code, body := post(t, srv.URL+"/webhook/zabbix", zabbixProblem); code != 200 {
		t.Fatalf("POST = %d %s", code, body)
	}
	a := next(t, ch)
	// 09:31:05 in Asia/Shanghai is 01:31:05 UTC.
	if a.Source != "zabbix" || a.ID != "31415" || a.Host != "db01" || a.HostIP != "10.0.0.21" || a.System != "order-gateway" ||
		a.Severity != "High" || a.Title != "Problem: MySQL is down" || a.Status != alert.StatusFiring ||
		!a.StartsAt.Equal(time.Date(2026, 5, 1, 1, 31, 5, 0, time.UTC)) || a.AckedAt != nil || a.Labels["service"] != "mysql" {
		t.Fatalf("problem = %+v", a)
	}
	post(t, srv.URL+"/webhook/zabbix", zabbixAck)
	a = next(t, ch)
	if a.AckedBy != "Zhang Wei" || a.AckedAt == nil || !a.AckedAt.Equal(time.Date(2026, 5, 1, 1, 34, 40, 0, time.UTC)) {
		t.Fatalf("ack = %+v", a)
	}
	post(t, srv.URL+"/webhook/zabbix", zabbixResolved)
	a = next(t, ch)
	if a.Status != alert.StatusResolved || a.AckedBy != "Zhang Wei" || a.System != "order-gateway" || a.Labels["service"] != "mysql" {
		t.Fatalf("resolved = %+v", a)
	}
}

// Nightingale (n9e v6) callback events: firing, then recovered.
const (
	n9eFiring = `{"id":1024,"cate":"prometheus","cluster":"prod","datasource_id":1,"group_id":3,"group_name":"trading",
	  "hash":"6f1c0e9a2b","rule_id":17,"rule_name":"order-api error rate > 5%","rule_note":"","rule_prod":"metric",
	  "severity":2,"prom_for_duration":60,"prom_ql":"rate(errors[1m]) > 0.05","runbook_url":"",
	  "target_ident":"app01","target_note":"",
	  "trigger_time":1777599120,"first_trigger_time":1777599065,"trigger_value":"0.12",
	  "tags":["ident=app01","system=order-gateway","__name__=errors"],
	  "is_recovered":false,"notify_recovered":1,"notify_cur_number":1,"last_eval_time":1777599120}`
	n9eRecovered = `{"id":1031,"cate":"prometheus","cluster":"prod","group_name":"trading","hash":"6f1c0e9a2b","rule_id":17,
	  "rule_name":"order-api error rate > 5%","severity":2,"target_ident":"app01",
	  "trigger_time":1777599600,"first_trigger_time":1777599065,"trigger_value":"0.01",
	  "tags":["ident=app01","system=order-gateway"],"is_recovered":true}`
)

func TestNightingalePreset(t *testing.T) {
	srv, _, ch := newServer(t, alert.Config{})
	post(t, srv.URL+"/webhook/nightingale", n9eFiring)
	a := next(t, ch)
	if a.Source != "nightingale" || a.ID != "6f1c0e9a2b" || a.Host != "app01" || a.System != "order-gateway" ||
		a.Severity != "2" || a.Title != "order-api error rate > 5%" || a.Status != alert.StatusFiring ||
		!a.StartsAt.Equal(time.Unix(1777599065, 0)) || a.Labels["cluster"] != "prod" || a.Labels["rule_id"] != "17" {
		t.Fatalf("firing = %+v", a)
	}
	post(t, srv.URL+"/webhook/nightingale", n9eRecovered)
	if a := next(t, ch); a.Status != alert.StatusResolved || !a.StartsAt.Equal(time.Unix(1777599065, 0)) {
		t.Fatalf("recovered = %+v", a)
	}
}

func TestCustomMapping(t *testing.T) {
	m := alert.Mapping{
		Items:    "data.events",
		ID:       "uuid",
		Title:    "{{rule}} on {{target.name}}",
		Host:     "target.addr",
		System:   "meta.app || meta.system",
		Status:   "state",
		StartsAt: "ts",
		Labels:   map[string]string{"team": "meta.team"},
		Acked:    "ack.done",
		AckedBy:  "ack.user",
		AckedAt:  "ack.time",
	}
	srv, _, ch := newServer(t, alert.Config{Mappings: map[string]alert.Mapping{"inhouse": m}})
	body := `{"data":{"events":[
	  {"uuid":"e-1","rule":"disk full","target":{"name":"fs01","addr":"10.1.2.3:22"},"meta":{"system":"clearing","team":"ops"},
	   "state":"ALARM","ts":1777599065000,"ack":{"done":true,"user":"li.na","time":"2026-05-01T01:35:00+00:00"}},
	  {"uuid":"e-2","rule":"cpu","target":{"name":"fs02"},"meta":{"app":"settlement"},"state":"OK","ts":"2026-05-01 09:40:00"}]}}`
	if code, resp := post(t, srv.URL+"/webhook/inhouse", body); code != 200 || !strings.Contains(resp, `"received":2`) {
		t.Fatalf("POST = %d %s", code, resp)
	}
	a, b := next(t, ch), next(t, ch)
	if a.Source != "inhouse" || a.ID != "e-1" || a.Title != "disk full on fs01" || a.Host != "10.1.2.3" || a.System != "clearing" ||
		a.Labels["team"] != "ops" || a.Status != alert.StatusFiring || !a.StartsAt.Equal(time.UnixMilli(1777599065000)) ||
		a.AckedBy != "li.na" || a.AckedAt == nil || !a.AckedAt.Equal(time.Date(2026, 5, 1, 1, 35, 0, 0, time.UTC)) {
		t.Fatalf("first = %+v", a)
	}
	if b.ID != "e-2" || b.System != "settlement" || b.Status != alert.StatusResolved || b.AckedAt != nil ||
		!b.StartsAt.Equal(time.Date(2026, 5, 1, 1, 40, 0, 0, time.UTC)) {
		t.Fatalf("second = %+v", b)
	}
}
