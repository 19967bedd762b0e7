// Package report renders a drill run's report (DESIGN §5, §8, §12) in four
// formats: JSON (a stable, language-neutral document, schema SchemaID),
// Markdown and self-contained HTML with SVG charts (in zh-CN or en), and
// JUnit XML for CI gates (contract 7).
//
// The engine fills an Input after the verdict; Render writes one format,
// WriteAll writes them all. Every user-visible word comes from the
// internal/i18n catalogue. Times are stored in UTC and shown in the
// deployment's zone (Options.Location, Asia/Shanghai by default). A measure
// that was not detected is null in JSON and "未检测到" / "not detected" in
// the other formats: never 0.
package report
