package testutil

import (
	"encoding/hex"
	"fmt"
	"net"
	"reflect"
	"sort"
	"strings"
)

// volatileFields are struct fields left out of canonical forms because they change
// without anyone changing the configuration: counters, statistics, timestamps,
// reference counts, remaining lifetimes, kernel-assigned indexes.
var volatileFields = map[string]bool{
	"Statistics": true, "Stats": true, "Timestamp": true, "Refcnt": true, "Bindcnt": true,
	"Expires": true, "Use": true,
	"expr.Counter.Bytes": true, "expr.Counter.Packets": true,
	"expr.Quota.Consumed": true,
	// htb's count of packets sent past its classes (a packet before any class).
	"netlink.Htb.DirectPkts": true,
	// Identity that changes when an equal object is re-created; keys carry names.
	"LinkIndex": true, "nftables.Flowtable.Handle": true,
}

var ipNetType = reflect.TypeOf(net.IPNet{})

// canon renders v deterministically: pointers followed (never printed as
// addresses), unexported and volatile fields left out, byte slices in hex, map
// keys sorted, the dynamic type named at every interface.
func canon(v any) string {
	var b strings.Builder
	writeCanon(&b, reflect.ValueOf(v), 0, true)
	return b.String()
}

func writeCanon(b *strings.Builder, v reflect.Value, depth int, named bool) {
	if depth > 16 {
		b.WriteString("…")
		return
	}
	if !v.IsValid() {
		b.WriteString("nil")
		return
	}
	switch v.Kind() {
	case reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		writeCanon(b, v.Elem(), depth+1, true)
	case reflect.Pointer:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		if named {
			b.WriteString("*")
		}
		writeCanon(b, v.Elem(), depth+1, named)
	case reflect.Struct:
		writeStruct(b, v, depth, named)
	case reflect.Slice, reflect.Array:
		if v.Kind() == reflect.Slice && v.IsNil() {
			b.WriteString("nil")
			return
		}
		if s, ok := stringer(v); ok {
			b.WriteString(s)
			return
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			raw := make([]byte, v.Len())
			for i := range raw {
				raw[i] = byte(v.Index(i).Uint())
			}
			b.WriteString("0x" + hex.EncodeToString(raw))
			return
		}
		b.WriteString("[")
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b.WriteString(" ")
			}
			writeCanon(b, v.Index(i), depth+1, false)
		}
		b.WriteString("]")
	case reflect.Map:
		keys := make([]string, 0, v.Len())
		vals := map[string]string{}
		for it := v.MapRange(); it.Next(); {
			k := canonValue(it.Key(), depth+1)
			keys = append(keys, k)
			vals[k] = canonValue(it.Value(), depth+1)
		}
		sort.Strings(keys)
		b.WriteString("map[")
		for i, k := range keys {
			if i > 0 {
				b.WriteString(" ")
			}
			b.WriteString(k + ":" + vals[k])
		}
		b.WriteString("]")
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		b.WriteString(v.Kind().String())
	default:
		if s, ok := stringer(v); ok {
			b.WriteString(s)
			return
		}
		fmt.Fprintf(b, "%v", v.Interface())
	}
}

func canonValue(v reflect.Value, depth int) string {
	var b strings.Builder
	writeCanon(&b, v, depth, false)
	return b.String()
}

func writeStruct(b *strings.Builder, v reflect.Value, depth int, named bool) {
	t := v.Type()
	if t == ipNetType {
		n := v.Interface().(net.IPNet)
		b.WriteString(n.String())
		return
	}
	if named {
		b.WriteString(t.String())
	}
	b.WriteString("{")
	first := true
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() || volatileFields[f.Name] || volatileFields[t.String()+"."+f.Name] {
			continue
		}
		fv := v.Field(i)
		if fv.IsZero() {
			continue // keeps forms short and stable when libraries add fields
		}
		if !first {
			b.WriteString(" ")
		}
		first = false
		if f.Anonymous {
			writeCanon(b, fv, depth+1, false)
			continue
		}
		b.WriteString(f.Name + "=")
		writeCanon(b, fv, depth+1, false)
	}
	b.WriteString("}")
}

// stringer uses String() for non-struct values that have one (net.IP,
// net.HardwareAddr, enums, durations); struct Stringers often include volatile
// fields, so structs are always walked.
func stringer(v reflect.Value) (string, bool) {
	if !v.CanInterface() {
		return "", false
	}
	if s, ok := v.Interface().(fmt.Stringer); ok {
		return s.String(), true
	}
	return "", false
}
