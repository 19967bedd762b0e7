package i18n

// controlPlane holds the control plane's messages (notifications, policy);
// kept apart from messages.go so that areas can add theirs without editing
// one long literal. init merges it; TestEveryKeyHasBothLanguages covers it.
var controlPlane = map[string]msg{
	"notify.tag":         {"演练", "drill"},
	"notify.title.start": {"演练开始：%s，涉及 %d 台主机（相关告警请标记为演练）", "Drill started: %s on %d hosts (tag related alerts as drill traffic)"},
	"notify.title.end":   {"演练结束：%s，涉及 %d 台主机", "Drill ended: %s on %d hosts"},
}

func init() {
	for k, v := range controlPlane {
		if _, dup := messages[k]; dup {
			panic("i18n: duplicate key " + k)
		}
		messages[k] = v
	}
}
