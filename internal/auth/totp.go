package auth

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
	"github.com/pquerna/otp/totp"

	"github.com/bulwarkhq/bulwark"
)

// totpPeriod is the RFC 6238 step; codes are 6 digits of HMAC-SHA1, what
// every authenticator app understands.
const totpPeriod = 30

// Enrolment is what a user needs to set up an authenticator app: the base32
// secret and the otpauth:// URL (for a QR code). It is shown once.
type Enrolment struct {
	Secret string `json:"secret"`
	URL    string `json:"url"`
}

// EnrolTOTP gives the user a new TOTP secret, replacing any old one; it is
// confirmed by the first code accepted.
func (s *Service) EnrolTOTP(ctx context.Context, userID string) (*Enrolment, error) {
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return nil, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.cfg.TOTPIssuer, AccountName: u.Name, Period: totpPeriod})
	if err != nil {
		return nil, fmt.Errorf("enrol totp: %w", err)
	}
	sealed := s.sealer.seal([]byte(key.Secret()), []byte(u.ID))
	if err := s.store.PutTOTP(ctx, u.ID, sealed); err != nil {
		return nil, fmt.Errorf("enrol totp: %w", err)
	}
	return &Enrolment{Secret: key.Secret(), URL: key.URL()}, nil
}

// CheckTOTP accepts code for the user at the service's current time, one
// step either side, and never twice: the step it matched must be newer
// than the last accepted one. A wrong or replayed code is EUNAUTHORIZED.
func (s *Service) CheckTOTP(ctx context.Context, userID, code string) error {
	t, err := s.store.TOTP(ctx, userID)
	if bulwark.ErrorCode(err) == bulwark.ENOTFOUND {
		return bulwark.Errorf(bulwark.EUNAUTHORIZED, "no second factor enrolled: ask an admin to enrol TOTP")
	} else if err != nil {
		return err
	}
	secret, err := s.sealer.open(t.Secret, []byte(userID))
	if err != nil {
		return fmt.Errorf("check totp: %w", err)
	}
	step, ok := matchStep(string(secret), strings.TrimSpace(code), s.now())
	if !ok {
		return bulwark.Errorf(bulwark.EUNAUTHORIZED, "wrong name, password or code")
	}
	if err := s.store.UseTOTPStep(ctx, userID, step); bulwark.ErrorCode(err) == bulwark.ECONFLICT {
		return bulwark.Errorf(bulwark.EUNAUTHORIZED, "code already used: wait for the next one")
	} else if err != nil {
		return err
	}
	return nil
}

// matchStep returns the step (now−1, now or now+1) whose code is code.
// Every candidate is computed and compared in constant time.
func matchStep(secret, code string, now time.Time) (int64, bool) {
	if len(code) != 6 {
		return 0, false
	}
	cur := now.Unix() / totpPeriod
	var found int64
	ok := false
	for _, step := range []int64{cur - 1, cur, cur + 1} {
		want, err := hotp.GenerateCodeCustom(secret, uint64(step), hotp.ValidateOpts{
			Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && !ok {
			found, ok = step, true
		}
	}
	return found, ok
}
