package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"sync"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// Actor kinds: who made the request an entry records.
const (
	ActorUser    = "user"    // a person
	ActorToken   = "token"   // an API token of an automation account
	ActorAccount = "account" // an automation account (bulwark.PrincipalAccount)
	ActorAgent   = "agent"   // an enrolled agent
	ActorSystem  = "system"  // the server itself (schedules, expiry, halt)
)

// Result statuses.
const (
	ResultOK     = "ok"
	ResultDenied = "denied"
	ResultError  = "error"
)

// Actor is who made the request: a user or account id and its kind.
type Actor struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
}

// Result is how the request ended, with the reason for a denial or error.
type Result struct {
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// Entry is one record of the audit log. The caller of Log.Record fills
// Actor, Action, Resource, RequestDigest, Result and optionally Time and ID;
// the log fills the rest.
type Entry struct {
	ID            string    `json:"id"`            // unique; makes a spool replay idempotent
	Seq           int64     `json:"seq"`           // 1, 2, 3, … with no gap; 0 while spooled
	Time          time.Time `json:"time"`          // UTC, nanoseconds
	Actor         Actor     `json:"actor"`         //
	Action        string    `json:"action"`        // e.g. "fault.inject", "halt", "policy.decision"
	Resource      string    `json:"resource"`      // what the action was on, e.g. "fault/0193…"
	RequestDigest string    `json:"requestDigest"` // SHA-256 hex of the canonical request body
	Result        Result    `json:"result"`        //
	Alg           string    `json:"alg"`           // hash algorithm of this entry
	PrevHash      string    `json:"prevHash"`      // hex; "" for seq 1
	Hash          string    `json:"hash"`          // hex
}

// hashed is the part of an entry its hash covers, in the shape of DESIGN
// §6.6: {seq, time, user, action, resource, request digest, result}.
type hashed struct {
	Seq           int64  `json:"seq"`
	Time          string `json:"time"`
	User          Actor  `json:"user"`
	Action        string `json:"action"`
	Resource      string `json:"resource"`
	RequestDigest string `json:"requestDigest"`
	Result        Result `json:"result"`
}

var (
	actionRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$`) })
	hexRE    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[0-9a-f]{64}$`) })
)

// Validate reports the first field of e a caller got wrong, as EINVALID.
func (e *Entry) Validate() error {
	switch {
	case e.Actor.ID == "":
		return bulwark.Errorf(bulwark.EINVALID, "audit entry: actor.id is required")
	case !validActorKind(e.Actor.Kind):
		return bulwark.Errorf(bulwark.EINVALID, "audit entry: actor.kind %q is not user, token, account, agent or system", e.Actor.Kind)
	case !actionRE().MatchString(e.Action):
		return bulwark.Errorf(bulwark.EINVALID, "audit entry: action %q is not dotted lowercase words like fault.inject", e.Action)
	case e.RequestDigest != "" && !hexRE().MatchString(e.RequestDigest):
		return bulwark.Errorf(bulwark.EINVALID, "audit entry: requestDigest %q is not 64 lowercase hex digits", e.RequestDigest)
	case e.Result.Status != ResultOK && e.Result.Status != ResultDenied && e.Result.Status != ResultError:
		return bulwark.Errorf(bulwark.EINVALID, "audit entry: result.status %q is not ok, denied or error", e.Result.Status)
	case e.Result.Status != ResultOK && e.Result.Reason == "":
		return bulwark.Errorf(bulwark.EINVALID, "audit entry: result.reason is required when result.status is %s", e.Result.Status)
	case e.Time.Year() < 1970 || e.Time.Year() > 9999:
		return bulwark.Errorf(bulwark.EINVALID, "audit entry: time %s is outside years 1970-9999", e.Time)
	}
	return nil
}

func validActorKind(k string) bool {
	switch k {
	case ActorUser, ActorToken, ActorAccount, ActorAgent, ActorSystem:
		return true
	}
	return false
}

// DigestRequest returns the request digest of a JSON request body: the
// SHA-256 hex of its canonical form. An empty body digests as the empty
// string's SHA-256. A body that is not JSON is an EINVALID error.
func DigestRequest(body []byte) (string, error) {
	if len(body) == 0 {
		return DigestBytes(nil), nil
	}
	c, err := Canonicalize(body)
	if err != nil {
		return "", bulwark.Errorf(bulwark.EINVALID, "request body: %v", err)
	}
	return DigestBytes(c), nil
}

// DigestBytes returns the SHA-256 hex of b, for request bodies that are not
// JSON (a drill file, say).
func DigestBytes(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
