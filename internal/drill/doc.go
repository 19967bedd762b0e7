// Package drill reads and checks drill files (DESIGN §5 and §5.1).
//
// Parse decodes a file strictly with internal/yamldoc, the decoder it
// shares with calendars and policies: unknown fields, values of the wrong
// type or unit, unknown fault kinds and parameters, malformed
// selectors and abort expressions are all problems. Parse reports every
// problem it finds, each with file, line, column and field path, sorted by
// position, as one *Error. A *Drill that Parse returns without error has
// its defaults filled in (select, settle, before, alerts, tolerance), its
// fault parameters decoded by the kind's schema (Step.Params) and its
// abort conditions compiled (Abort.Cond), so the engine never re-validates.
//
// The engine walks Spec.Steps: each Step is exactly one of the kinds listed
// by StepKind; serial and parallel groups hold further steps. Scenario
// references are checked for shape only until the scenario library exists;
// Options.Scenarios lets the caller resolve them.
package drill
