package auth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// TokenPrefix starts every API token Bulwark issues.
const TokenPrefix = "bwk_"

// randomString returns n random bytes in unpadded base64url.
func randomString(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("read random bytes: %v", err))
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// NewToken returns a new API token secret: TokenPrefix and 32 random bytes.
func NewToken() string { return TokenPrefix + randomString(32) }

// HashSecret returns the SHA-256 of a token or session id in hex, as stored.
// The secrets have 256 bits of entropy, so an unsalted fast hash is enough.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Argon2Params are the argon2id cost parameters for new password hashes;
// CheckPassword reads them back from each hash.
type Argon2Params struct {
	Time    uint32
	Memory  uint32 // KiB
	Threads uint8
}

// DefaultArgon2 returns RFC 9106's second recommended setting (64 MiB, 3
// passes).
func DefaultArgon2() Argon2Params { return Argon2Params{Time: 3, Memory: 64 * 1024, Threads: 2} }

// Hash returns an argon2id hash of password as a PHC string.
func (a Argon2Params) Hash(password string) string {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		panic(fmt.Sprintf("read random bytes: %v", err))
	}
	key := argon2.IDKey([]byte(password), salt, a.Time, a.Memory, a.Threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, a.Memory, a.Time, a.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// CheckPassword reports whether password matches a HashPassword string.
func CheckPassword(hash, password string) (bool, error) {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("check password: not an argon2id hash")
	}
	var version int
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, fmt.Errorf("check password: unsupported argon2 version %q", parts[2])
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false, fmt.Errorf("check password: bad parameters %q", parts[3])
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err := errors.Join(err1, err2); err != nil {
		return false, fmt.Errorf("check password: %w", err)
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// sealer encrypts TOTP secrets at rest with AES-256-GCM when it has a key;
// without one it stores them as they are, marked so.
type sealer struct{ aead cipher.AEAD }

const (
	sealedPrefix = "v1:"
	plainPrefix  = "plain:"
)

func newSealer(key []byte) (*sealer, error) {
	if len(key) == 0 {
		return &sealer{}, nil
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("secret key: %d bytes, want 32", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return &sealer{aead: aead}, nil
}

// seal returns plaintext sealed for storage; ad binds it to its owner.
func (s *sealer) seal(plaintext, ad []byte) []byte {
	if s.aead == nil {
		return append([]byte(plainPrefix), plaintext...)
	}
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(fmt.Sprintf("read random bytes: %v", err))
	}
	out := append([]byte(sealedPrefix), nonce...)
	return s.aead.Seal(out, nonce, plaintext, ad)
}

// open reverses seal.
func (s *sealer) open(stored, ad []byte) ([]byte, error) {
	switch {
	case strings.HasPrefix(string(stored), plainPrefix):
		return stored[len(plainPrefix):], nil
	case !strings.HasPrefix(string(stored), sealedPrefix):
		return nil, errors.New("open secret: unknown format")
	case s.aead == nil:
		return nil, errors.New("open secret: it is encrypted and no secret key is configured")
	}
	b := stored[len(sealedPrefix):]
	if len(b) < s.aead.NonceSize() {
		return nil, errors.New("open secret: too short")
	}
	pt, err := s.aead.Open(nil, b[:s.aead.NonceSize()], b[s.aead.NonceSize():], ad)
	if err != nil {
		return nil, fmt.Errorf("open secret: %w (wrong secret key?)", err)
	}
	return pt, nil
}
