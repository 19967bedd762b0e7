package audit

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/bulwarkhq/bulwark"
)

// Checkpoint is a signed statement that the chain had Hash at Seq at Time.
// Signature is the base64 (standard, padded) ed25519 signature of the
// canonical JSON of {hash, seq, time}; KeyID names the public key that
// verifies it (the first 16 hex digits of its SHA-256).
type Checkpoint struct {
	Seq       int64     `json:"seq"`
	Hash      string    `json:"hash"`
	Time      time.Time `json:"time"`
	KeyID     string    `json:"keyId"`
	Signature string    `json:"signature"`
}

// checkpointPayload is what a checkpoint's signature covers.
type checkpointPayload struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
	Time string `json:"time"`
}

// Payload returns the bytes c's signature covers.
func (c *Checkpoint) Payload() ([]byte, error) {
	return Canonical(checkpointPayload{Seq: c.Seq, Hash: c.Hash, Time: bulwark.FormatTime(c.Time)})
}

// Sign fills c's KeyID and Signature with key.
func (c *Checkpoint) Sign(key ed25519.PrivateKey) error {
	p, err := c.Payload()
	if err != nil {
		return err
	}
	c.KeyID = KeyID(key.Public().(ed25519.PublicKey))
	c.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, p))
	return nil
}

// VerifySignature reports whether c carries a valid signature by pub.
func (c *Checkpoint) VerifySignature(pub ed25519.PublicKey) error {
	sig, err := base64.StdEncoding.DecodeString(c.Signature)
	if err != nil {
		return fmt.Errorf("signature is not base64: %w", err)
	}
	p, err := c.Payload()
	if err != nil {
		return err
	}
	if !ed25519.Verify(pub, p, sig) {
		return errors.New("signature does not verify with the public key")
	}
	return nil
}

// KeyID returns the first 16 hex digits of the SHA-256 of pub.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:8])
}

// GenerateKey writes a new ed25519 private key to path (PKCS #8 PEM, mode
// 0600, refusing to overwrite) and its public key to path+".pub" (PKIX PEM,
// 0644). It returns the public key.
func GenerateKey(path string) (ed25519.PublicKey, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("marshal private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("marshal public key: %w", err)
	}
	if err := writeNew(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, err
	}
	if err := writeNew(path+".pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		return nil, err
	}
	return pub, nil
}

// writeNew creates path exclusively with perm, writes b and fsyncs it.
func writeNew(path string, b []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("create key file: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return f.Close()
}

// LoadPrivateKey reads an ed25519 private key written by GenerateKey. It
// refuses a file that group or others may read or write (on Unix).
func LoadPrivateKey(path string) (ed25519.PrivateKey, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, bulwark.Errorf(bulwark.EINVALID, "audit key %s: %v", path, err)
	}
	// Windows reports no Unix permission bits; its ACLs are the operator's.
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, bulwark.Errorf(bulwark.EINVALID, "audit key %s: mode %04o lets others read it; chmod 600 it", path, fi.Mode().Perm())
	}
	block, err := readPEM(path)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, bulwark.Errorf(bulwark.EINVALID, "audit key %s: %v", path, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, bulwark.Errorf(bulwark.EINVALID, "audit key %s: a %T, not an ed25519 key", path, k)
	}
	return priv, nil
}

// LoadPublicKey reads an ed25519 public key (PKIX "PUBLIC KEY" PEM), or
// derives it from a private key file.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	block, err := readPEM(path)
	if err != nil {
		return nil, err
	}
	if block.Type == "PRIVATE KEY" {
		priv, err := LoadPrivateKey(path)
		if err != nil {
			return nil, err
		}
		return priv.Public().(ed25519.PublicKey), nil
	}
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, bulwark.Errorf(bulwark.EINVALID, "public key %s: %v", path, err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, bulwark.Errorf(bulwark.EINVALID, "public key %s: a %T, not an ed25519 key", path, k)
	}
	return pub, nil
}

func readPEM(path string) (*pem.Block, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, bulwark.Errorf(bulwark.EINVALID, "key file %s: %v", path, err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return nil, bulwark.Errorf(bulwark.EINVALID, "key file %s: no PEM block", path)
	}
	return block, nil
}
