package probe

import "testing"

func TestOracleDSN(t *testing.T) {
	cases := []struct {
		in, want string
		bad      bool
	}{
		{in: "oracle://scott:tiger@db1:1521/ORCLPDB1?TRACE FILE=x", want: "oracle://scott:tiger@db1:1521/ORCLPDB1?TRACE FILE=x"},
		{in: "scott/tiger@db1:1521/ORCLPDB1", want: "oracle://scott:tiger@db1:1521/ORCLPDB1"},
		{in: "scott/tiger@db1/ORCLPDB1", want: "oracle://scott:tiger@db1:1521/ORCLPDB1"},
		{in: "scott/tiger@//db1:1521/svc", want: "oracle://scott:tiger@db1:1521/svc"},
		{in: "scott/p@ss:w/rd@db1:1521/svc", want: "oracle://scott:p%40ss%3Aw%2Frd@db1:1521/svc"},
		{in: "app/pw@[fd00::5]:1521/svc", want: "oracle://app:pw@[fd00::5]:1521/svc"},
		{in: "oracle://db1:1521/svc", bad: true},
		{in: "oracle://scott:tiger@db1:1521", bad: true},
		{in: "scott/tiger@db1", bad: true},
		{in: "scott/tiger", bad: true},
		{in: "@db1:1521/svc", bad: true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := oracleDSN(tc.in)
			if tc.bad {
				if err == nil {
					t.Fatalf("oracleDSN = %q, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("oracleDSN = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestRedactDSN(t *testing.T) {
	cases := map[string]string{
		"postgres://app:s3cret@db:5432/test":        "postgres://app:xxxxx@db:5432/test",
		"host=db user=app password=s3cret dbname=x": "host=db user=app password=xxxxx dbname=x",
		"host=db password='s p a c e' dbname=x":     "host=db password=xxxxx dbname=x",
		"app:s3cret@tcp(db:3306)/test":              "app:xxxxx@tcp(db:3306)/test",
		"root@tcp(127.0.0.1:3306)/test":             "root@tcp(127.0.0.1:3306)/test",
		"oracle://scott:tiger@db1:1521/svc":         "oracle://scott:xxxxx@db1:1521/svc",
		"scott/tiger@db1:1521/svc":                  "scott/xxxxx@db1:1521/svc",
		"postgres://db:5432/test?sslmode=disable":   "postgres://db:5432/test?sslmode=disable",
	}
	for in, want := range cases {
		if got := RedactDSN(in); got != want {
			t.Errorf("RedactDSN(%q) = %q, want %q", in, got, want)
		}
	}
}
