package probe

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"
	"sync"
)

// oracleDSN returns the go-ora URL for dsn, which is either such a URL
// ("oracle://user:pass@host:1521/service?opt=v") or Oracle's EZConnect form
// as SQL*Plus users write it ("user/pass@host[:port]/service"; port 1521 by
// default).
func oracleDSN(dsn string) (string, error) {
	if strings.HasPrefix(dsn, "oracle://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("oracle url: %w", stripURL(err))
		}
		if u.Host == "" || strings.Trim(u.Path, "/") == "" || u.User.Username() == "" {
			return "", fmt.Errorf("oracle url %s: want oracle://user:password@host:port/service", u.Redacted())
		}
		return dsn, nil
	}
	// The password may contain "@"; the host part cannot.
	i := strings.LastIndex(dsn, "@")
	ok := i >= 0
	cred, addr := dsn[:max(i, 0)], dsn[i+1:]
	user, pass, _ := strings.Cut(cred, "/")
	hostport, service, _ := strings.Cut(strings.TrimPrefix(addr, "//"), "/")
	if !ok || user == "" || hostport == "" || service == "" {
		return "", errors.New("oracle dsn: want user/password@host[:port]/service or an oracle:// url")
	}
	if _, _, err := net.SplitHostPort(hostport); err != nil {
		hostport = net.JoinHostPort(strings.Trim(hostport, "[]"), "1521")
	}
	u := url.URL{Scheme: "oracle", User: url.UserPassword(user, pass), Host: hostport, Path: "/" + service}
	return u.String(), nil
}

// stripURL drops the *url.Error wrapper, whose message repeats the input.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

var (
	mysqlPass = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([^:@/]*):[^@]*@`) })
	kvPass    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|\S+)`) })
)

// RedactDSN hides the password in a data source name (URL, key=value,
// mysql or EZConnect form) so it can be shown in errors and logs.
func RedactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" && u.User != nil {
		return u.Redacted()
	}
	if kvPass().MatchString(dsn) {
		return kvPass().ReplaceAllString(dsn, "${1}xxxxx")
	}
	if mysqlPass().MatchString(dsn) {
		return mysqlPass().ReplaceAllString(dsn, "${1}:xxxxx@")
	}
	if cred, rest, ok := strings.Cut(dsn, "@"); ok {
		if user, _, hasPass := strings.Cut(cred, "/"); hasPass {
			return user + "/xxxxx@" + rest
		}
	}
	return dsn
}
