package i18n

// Policy-gate reasons (internal/policy): why a request that can change a
// host was refused, or what it waits for. Kept in their own table so the
// policy work does not edit messages.go; init merges them into the
// catalogue before its first use. Every message takes only %s arguments, in
// the same order in both languages.
var policyMessages = map[string]msg{
	"policy.request.invalid":       {"请求无效：%s", "invalid request: %s"},
	"policy.target.none":           {"请求没有选中任何主机", "the request selects no hosts"},
	"policy.target.noEnvironment":  {"主机 %s 不属于任何环境（清单中未登记）", "host %s has no environment (not in the inventory)"},
	"policy.kind.denied":           {"环境 %s 的策略 %s 禁止故障类型 %s（规则 %s）", "environment %s: policy %s denies kind %s (rule %s)"},
	"policy.kind.notAllowed":       {"环境 %s 的策略 %s 未允许故障类型 %s", "environment %s: policy %s does not allow kind %s"},
	"policy.hosts.cap":             {"环境 %s 每次最多故障 %s 台主机，本次选中 %s 台", "environment %s allows at most %s hosts per request; this one selects %s"},
	"policy.duration.missing":      {"必须给出故障持续时间（每个故障都必须会到期）", "a duration is required (every fault must expire)"},
	"policy.duration.cap":          {"持续时间 %s 超过环境 %s 的上限 %s", "duration %s exceeds the cap of environment %s (%s)"},
	"policy.param.cap":             {"参数 %s 的值 %s 超过环境 %s 的上限 %s", "parameter %s = %s exceeds the cap of environment %s (%s)"},
	"policy.param.unreadable":      {"无法按上限的单位读取参数 %s 的值 %s：%s", "parameter %s = %s cannot be read in the cap's unit: %s"},
	"policy.calendar.missing":      {"环境 %s 的策略需要交易日历 %s，但该日历未加载", "the policy of environment %s needs calendar %s, which is not loaded"},
	"policy.calendar.none":         {"生产类环境 %s 没有配置交易日历：无法判断是否处于封网期，拒绝执行", "production-class environment %s has no calendar: blackouts cannot be checked, so the request is refused"},
	"policy.calendar.expired":      {"交易日历 %s 仅有效至 %s，计划时段（至 %s）超出其有效期，视为封网期；请加载新年度的交易日历", "calendar %s is valid only through %s and the planned interval (until %s) goes beyond it, which counts as blackout; load next year's calendar"},
	"policy.calendar.blackout":     {"计划时段触及 %s（%s，%s 至 %s），该时段在环境 %s 为封网期", "the planned interval touches %s (%s, %s to %s), a blackout in environment %s"},
	"policy.calendar.outside":      {"计划时段包含交易时段与窗口之外的时间，环境 %s 的策略规定此类时间为封网期", "the planned interval includes time outside every session and window, which is blackout in environment %s"},
	"policy.ticket.missing":        {"环境 %s 要求提供变更单号", "environment %s requires a change ticket"},
	"policy.ticket.unreachable":    {"无法向变更系统核验变更单 %s（按失败关闭处理，拒绝执行）：%s", "change ticket %s could not be checked with the change system (failing closed): %s"},
	"policy.ticket.notApproved":    {"变更单 %s 未获批准", "change ticket %s is not approved"},
	"policy.ticket.outsideWindow":  {"计划时段 %s 至 %s 不在变更单 %s 的批准窗口 %s 至 %s 之内", "the planned interval %s to %s is not inside the window of change ticket %s (%s to %s)"},
	"policy.ticket.hostNotCovered": {"主机 %s 不在变更单 %s 的范围内", "host %s is not covered by change ticket %s"},
	"policy.ticket.unverified":     {"变更单 %s 未经变更系统核验（未配置变更系统）", "change ticket %s was not verified (no change gate is configured)"},
	"policy.approval.needed":       {"需要 %s 名人员批准：须持有全部所选系统（%s）的 %s 角色，且不是提交人", "needs approval by %s person(s) other than the submitter who hold, on every selected system (%s), the role %s"},
	"policy.approval.checkFailed":  {"无法核对审批记录（按失败关闭处理，拒绝执行）：%s", "approvals could not be checked (failing closed): %s"},
	"policy.approval.satisfied":    {"环境 %s 的审批要求已满足", "the approvals required in environment %s are met"},
}

func init() {
	for k, m := range policyMessages {
		if _, dup := messages[k]; dup {
			panic("i18n: duplicate key " + k)
		}
		messages[k] = m
	}
}
