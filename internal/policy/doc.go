// Package policy is the one policy gate (DESIGN §6.8) that every path able
// to change a host calls: ad-hoc faults, drill runs and their steps, resume
// after halt, schedules, batches, surprise drills and emergency-plan
// actions.
//
// Policy is data: a kind: Policy file covers named environments, or is the
// default for production-class or other environments, and says which fault
// kinds may run (globs, deny wins), caps (hosts per request, duration,
// parameters such as net.delay delay ≤ 200ms, read with the root units
// parsers), approvals required, the calendar and its blackout rules, the
// recovery margin and whether a change ticket is required. Built-in policies
// (defaults/*.yaml) apply where no file does: strict for production-class
// environments (maxHosts 1, duration ≤ 10m, script.* denied, one approver,
// every session and window blackout, ticket required), permissive but
// capped for the others.
//
// Gate.Decide takes a Request whose targets carry their server-owned
// environment and system, and answers allow, deny with reasons, or
// needs-approval with the requirements still open. Production-class is
// decided from the targets' environments, never from the request, and always
// needs a calendar and at least one approval. The calendar is checked over
// [start, start+duration+recoveryMargin); an expired calendar is blackout.
// The change gate (ChangeGate, HTTP adapter in internal/policy/changegate)
// and the approval store (ApprovalChecker, internal/approval) are asked only
// when nothing else denies; either one failing means deny (fail closed).
//
// Reasons are catalogue keys with zh-CN and en text (internal/i18n);
// Decision.JSON is the stable form passed to the audit log.
//
// The package imports neither the server nor the store, so the agent can
// embed it with the calendar and refuse production-class faults in a
// blackout on its own.
package policy
