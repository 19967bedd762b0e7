package drill

import (
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/bulwarkhq/bulwark/internal/yamldoc"
)

// The struct tags below drive both these generic checks and JSONSchema:
//
//	req:"true"        the field must be given (non-zero)
//	min:"N" max:"N"   numeric bounds
//	enum:"a,b,c"      allowed strings
//	pattern:"^re$"    strings must match
//	doc:"…"           description in the schema

var patterns sync.Map // pattern text → *regexp.Regexp

func pattern(s string) *regexp.Regexp {
	if re, ok := patterns.Load(s); ok {
		return re.(*regexp.Regexp)
	}
	re := regexp.MustCompile(s)
	patterns.Store(s, re)
	return re
}

// checkTags applies the tag checks to v (a struct) and everything inside it.
func checkTags(doc *yamldoc.Doc, v reflect.Value, path string) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			checkTags(doc, v.Elem(), path)
		}
	case reflect.Slice:
		for i := range v.Len() {
			checkTags(doc, v.Index(i), yamldoc.Elem(path, i))
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name := yamldoc.FieldName(f)
			if name == "" {
				continue
			}
			fv, p := v.Field(i), yamldoc.Join(path, name)
			if f.Tag.Get("req") == "true" && fv.IsZero() {
				doc.Errorf(p, "is required")
				continue
			}
			checkField(doc, f, fv, p)
			checkTags(doc, fv, p)
		}
	}
}

func checkField(doc *yamldoc.Doc, f reflect.StructField, v reflect.Value, path string) {
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.IsZero() {
		return
	}
	switch v.Kind() {
	case reflect.String:
		s := v.String()
		if e := f.Tag.Get("enum"); e != "" && !slices.Contains(strings.Split(e, ","), s) {
			doc.Errorf(path, "%q is not one of %s", s, strings.ReplaceAll(e, ",", ", "))
		}
		if re := f.Tag.Get("pattern"); re != "" && !pattern(re).MatchString(s) {
			doc.Errorf(path, "%q must match %s", s, re)
		}
	case reflect.Int, reflect.Int64, reflect.Float64:
		n := v.Convert(reflect.TypeFor[float64]()).Float()
		if m, err := strconv.ParseFloat(f.Tag.Get("min"), 64); err == nil && n < m {
			doc.Errorf(path, "%v is below the minimum %v", n, m)
		}
		if m, err := strconv.ParseFloat(f.Tag.Get("max"), 64); err == nil && n > m {
			doc.Errorf(path, "%v is above the maximum %v", n, m)
		}
	}
}
