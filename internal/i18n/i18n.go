// Package i18n is Bulwark's message catalogue for what people read: reports,
// and later the dashboard and notifications (DESIGN §12). Every message has a
// zh-CN and an en text, kept side by side in one table (messages.go) and
// loaded into a golang.org/x/text/message catalogue.
//
// Keys are dotted ids ("verdict.failed", "measure.mttd"). Messages are
// fmt-style formats: a key with arguments carries verbs such as %s or %d.
// Only the two languages below exist; any other --lang is an error, never a
// silent fallback.
package i18n

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// The supported languages, as written on the command line and in reports.
const (
	ZH = "zh-CN" // simplified Chinese, the deployment default
	EN = "en"
)

// Default is the language used when neither the user nor the deployment
// chose one.
const Default = ZH

// Langs returns the supported languages, the default first.
func Langs() []string { return []string{ZH, EN} }

var tags = map[string]language.Tag{ZH: language.SimplifiedChinese, EN: language.English}

// Parse returns the canonical spelling of lang ("zh-CN" or "en"), matched
// without regard to case. Anything else is an error.
func Parse(lang string) (string, error) {
	for _, l := range Langs() {
		if strings.EqualFold(lang, l) {
			return l, nil
		}
	}
	return "", fmt.Errorf("language %q is not supported (use zh-CN or en)", lang)
}

// catalogue builds the catalogue from the messages table once, on first
// use: every bulwark command links this package, few of them print a report.
var catalogue = sync.OnceValue(func() *catalog.Builder {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	for key, m := range messages {
		for _, l := range []struct {
			tag language.Tag
			msg string
		}{{tags[ZH], m.zh}, {tags[EN], m.en}} {
			if l.msg == "" {
				continue // reported by the completeness test
			}
			if err := b.SetString(l.tag, key, l.msg); err != nil {
				panic(fmt.Sprintf("i18n: set %q: %v", key, err))
			}
		}
	}
	return b
})

// Printer renders messages in one language.
type Printer struct {
	lang string
	p    *message.Printer
}

// NewPrinter returns a printer for lang, which must be "zh-CN" or "en"
// (matched without regard to case).
func NewPrinter(lang string) (*Printer, error) {
	l, err := Parse(lang)
	if err != nil {
		return nil, err
	}
	return &Printer{lang: l, p: message.NewPrinter(tags[l], message.Catalog(catalogue()))}, nil
}

// MustPrinter is NewPrinter for a language known to be valid; it panics
// otherwise.
func MustPrinter(lang string) *Printer {
	p, err := NewPrinter(lang)
	if err != nil {
		panic(err)
	}
	return p
}

// Lang returns the printer's language, "zh-CN" or "en".
func (p *Printer) Lang() string { return p.lang }

// T returns the message for key, formatted with args. An unknown key comes
// back as "!key" so that a missing message shows in output and tests, and
// never as an empty string.
func (p *Printer) T(key string, args ...any) string {
	if _, ok := messages[key]; !ok {
		return "!" + key
	}
	return p.p.Sprintf(key, args...)
}

// Has reports whether key is in the catalogue.
func Has(key string) bool { _, ok := messages[key]; return ok }

// Lookup returns the raw (unformatted) message for key in lang.
func Lookup(lang, key string) (string, bool) {
	m, ok := messages[key]
	if !ok {
		return "", false
	}
	switch lang {
	case ZH:
		return m.zh, m.zh != ""
	case EN:
		return m.en, m.en != ""
	}
	return "", false
}

// Keys returns every message key, sorted.
func Keys() []string {
	keys := make([]string, 0, len(messages))
	for k := range messages {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Names returns the message for key in every language, formatted with
// args: the language-neutral form used in JSON documents.
func Names(key string, args ...any) map[string]string {
	out := make(map[string]string, 2)
	for _, l := range Langs() {
		out[l] = MustPrinter(l).T(key, args...)
	}
	return out
}

// msg is one message in both languages.
type msg struct{ zh, en string }
