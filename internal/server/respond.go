package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"

	"github.com/bulwarkhq/bulwark"
)

// maxBody bounds every request body the API reads.
const maxBody = 4 << 20

// errorBody is the one error shape of the API.
type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeError answers with err's code and message; internal errors are
// logged and answered with a generic message.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	code := bulwark.ErrorCode(err)
	if code == bulwark.EINTERNAL {
		log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	var body errorBody
	body.Error.Code, body.Error.Message = code, bulwark.ErrorMessage(err)
	writeJSON(w, bulwark.HTTPStatus(code), body)
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// decodeJSON reads one JSON value into v, refusing unknown fields, trailing
// data and bodies over maxBody, with messages that name the problem.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(io.LimitReader(r.Body, maxBody+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return bulwark.Errorf(bulwark.EINVALID, "request body: empty; send a JSON object")
		case errors.As(err, &se):
			return bulwark.Errorf(bulwark.EINVALID, "request body: JSON syntax error at byte %d", se.Offset)
		case errors.As(err, &te):
			return bulwark.Errorf(bulwark.EINVALID, "request body: field %q: want %s, got %s", te.Field, te.Type, te.Value)
		default:
			return bulwark.Errorf(bulwark.EINVALID, "request body: %v", err)
		}
	}
	if dec.More() {
		return bulwark.Errorf(bulwark.EINVALID, "request body: more than one JSON value")
	}
	return nil
}

// readBody reads a whole non-JSON body (a drill or inventory YAML file).
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if len(b) > maxBody {
		return nil, bulwark.Errorf(bulwark.EINVALID, "request body: larger than %d bytes", maxBody)
	}
	return b, nil
}
