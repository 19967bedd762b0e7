package bulwark

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes shared by the CLI, the API and the stores. They are mapped to
// HTTP statuses once, by HTTPStatus, and to exit codes once, in the CLI.
const (
	EINVALID      = "invalid"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	EUNAVAILABLE  = "unavailable"
	EINTERNAL     = "internal"
)

// HTTPStatus maps an error code to its HTTP status: the one mapping the
// server and its handlers share. Unknown codes are 500.
func HTTPStatus(code string) int {
	switch code {
	case EINVALID:
		return http.StatusBadRequest
	case EUNAUTHORIZED:
		return http.StatusUnauthorized
	case EFORBIDDEN:
		return http.StatusForbidden
	case ENOTFOUND:
		return http.StatusNotFound
	case ECONFLICT:
		return http.StatusConflict
	case EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// Error is an error meant for the person who made the request: Code says what
// class of failure it is and Message says what to do about it.
type Error struct {
	Code    string
	Message string
}

// Error implements the error interface.
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the message of the first *Error in err's chain, or a
// generic message for other errors so internals do not leak to clients.
func ErrorMessage(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Message
	default:
		return "internal error"
	}
}

// Sentinel errors used for control flow.
var (
	// ErrExpired reports that a fault has passed its expiry.
	ErrExpired = errors.New("fault expired")
	// ErrNewerReceipt reports a journal receipt written by a newer binary.
	ErrNewerReceipt = errors.New("receipt written by a newer bulwark")
)
