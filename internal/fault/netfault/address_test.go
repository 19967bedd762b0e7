package netfault

import "testing"

func TestAddressParse(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.1":         "10.0.0.1",
		"10.0.0.0/8":       "10.0.0.0/8",
		"fd00::/8":         "fd00::/8",
		"224.0.0.0/4":      "224.0.0.0/4",
		"DB-1.Example.com": "db-1.example.com",
		"localhost.":       "localhost",
	} {
		var a Address
		if err := a.UnmarshalText([]byte(in)); err != nil || a.String() != want {
			t.Errorf("%q: %q %v, want %q", in, a.String(), err, want)
		}
	}
	for _, in := range []string{"10.0.0.256", "1.2.3", "a b", "-x.example", "x_y", "", "ex..ample"} {
		var a Address
		if err := a.UnmarshalText([]byte(in)); err == nil {
			t.Errorf("%q parsed as %q", in, a.String())
		}
	}
}
