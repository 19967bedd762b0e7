// Package yamldoc decodes one strict YAML document (a Drill, a Calendar, a
// Policy) into Go structs and reports every problem at once, each as
// "file:line:col: field.path: problem".
//
// goccy/go-yaml parses the file; the decoder walks mappings and sequences
// itself so that every unknown field, duplicate key and badly typed value
// is reported with its path, and it indexes the position of every key and
// value so that the caller's semantic checks (Doc.Errorf) point at the
// right place too. Scalars are decoded by goccy/go-yaml in strict mode, and
// types that implement encoding.TextUnmarshaler (bulwark.Duration,
// time.Time, the calendar's Date and Clock) parse themselves with their own
// messages; types that take values of several shapes implement
// NodeDecoder.
//
// Anchors and aliases are resolved with a bound on expanded values and on
// nesting, so a small hostile file cannot take exponential time or exhaust
// the stack. Merge keys are refused.
//
// This package has no dependency on the server or the store, so the agent
// can embed drills, calendars and policies.
package yamldoc
