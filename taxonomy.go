package bulwark

import (
	"slices"
	"strings"
)

// Category is one of the five top-level classes of the risk taxonomy
// (DESIGN §2.1). Every scenario, finding, risk and drill carries one of its
// sub-categories as a TaxonomyID "category/sub".
type Category struct {
	ID     string        `json:"id"`
	NameEN string        `json:"nameEn"`
	NameZH string        `json:"nameZh"`
	Subs   []SubCategory `json:"subs"`
}

// SubCategory is one of the 28 sub-categories of the risk taxonomy.
type SubCategory struct {
	ID     string `json:"id"`
	NameEN string `json:"nameEn"`
	NameZH string `json:"nameZh"`
}

// Taxonomy returns the risk taxonomy in its documented order. The caller may
// not modify the result.
func Taxonomy() []Category { return taxonomy }

var taxonomy = []Category{
	{"spof", "single-point failure", "单点故障", []SubCategory{
		{"host-down", "host down", "主机宕机"},
		{"process-crash", "process crash", "进程崩溃"},
		{"network-partition", "network partition", "网络分区"},
		{"database-node", "database node failure", "数据库节点故障"},
		{"middleware-node", "middleware node failure (cache, MQ, registry)", "中间件节点故障（缓存、消息队列、注册中心）"},
		{"site-outage", "site outage (room or zone)", "机房或可用区故障"},
	}},
	{"defect", "functional defect", "功能缺陷", []SubCategory{
		{"dependency-error", "dependency returns errors", "依赖返回错误"},
		{"dependency-hang", "dependency hangs", "依赖挂起"},
		{"timeout-retry", "timeout and retry", "超时与重试"},
		{"degrade-circuit-breaker", "degradation and circuit breaking", "降级与熔断"},
		{"clock-anomaly", "clock anomaly", "时钟异常"},
		{"abnormal-data", "abnormal data", "异常数据"},
	}},
	{"capacity", "performance and capacity", "性能与容量", []SubCategory{
		{"cpu", "CPU", "CPU"},
		{"memory", "memory", "内存"},
		{"disk-space", "disk space", "磁盘空间"},
		{"disk-io", "disk I/O", "磁盘 I/O"},
		{"network-quality", "network quality (latency, loss, bandwidth)", "网络质量（延迟、丢包、带宽）"},
		{"resource-pool", "resource pools (connections, threads, file handles)", "资源池（连接、线程、文件句柄）"},
	}},
	{"data", "data loss or corruption", "数据丢失或损坏", []SubCategory{
		{"backup-restore", "backup and restore", "备份与恢复"},
		{"replication", "replication", "数据复制"},
		{"file-corruption", "file corruption", "文件损坏"},
		{"message-loss", "message loss", "消息丢失"},
		{"reconciliation", "reconciliation", "对账"},
	}},
	{"ops", "operational error", "操作失误", []SubCategory{
		{"misconfiguration", "misconfiguration", "配置错误"},
		{"mistaken-restart", "mistaken restart", "误重启"},
		{"faulty-release", "faulty release", "发布缺陷"},
		{"credential-permission", "credentials and permissions (incl. expired certificates)", "凭据与权限（含证书过期）"},
		{"mistaken-deletion", "mistaken deletion", "误删除"},
	}},
}

// LookupTaxonomy returns the category and sub-category of a taxonomy id
// "category/sub", and whether it exists.
func LookupTaxonomy(id string) (Category, SubCategory, bool) {
	cat, sub, ok := strings.Cut(id, "/")
	if !ok {
		return Category{}, SubCategory{}, false
	}
	i := slices.IndexFunc(taxonomy, func(c Category) bool { return c.ID == cat })
	if i < 0 {
		return Category{}, SubCategory{}, false
	}
	j := slices.IndexFunc(taxonomy[i].Subs, func(s SubCategory) bool { return s.ID == sub })
	if j < 0 {
		return taxonomy[i], SubCategory{}, false
	}
	return taxonomy[i], taxonomy[i].Subs[j], true
}

// TaxonomyIDs returns every "category/sub" id in documented order.
func TaxonomyIDs() []string {
	var ids []string
	for _, c := range taxonomy {
		for _, s := range c.Subs {
			ids = append(ids, c.ID+"/"+s.ID)
		}
	}
	return ids
}
