package audit_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/audit"
)

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.key")
	pub, err := audit.GenerateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
			t.Errorf("private key mode %v, want 0600", fi.Mode().Perm())
		}
	}
	priv, err := audit.LoadPrivateKey(path)
	if err != nil || !priv.Public().(ed25519.PublicKey).Equal(pub) {
		t.Fatalf("LoadPrivateKey = %v; want the generated key", err)
	}
	for _, p := range []string{path + ".pub", path} {
		got, err := audit.LoadPublicKey(p)
		if err != nil || !got.Equal(pub) {
			t.Errorf("LoadPublicKey(%s) = %v", filepath.Base(p), err)
		}
	}
	if _, err := audit.GenerateKey(path); err == nil {
		t.Error("GenerateKey overwrote an existing key")
	}
	if runtime.GOOS != "windows" {
		os.Chmod(path, 0o644)
		if _, err := audit.LoadPrivateKey(path); bulwark.ErrorCode(err) != bulwark.EINVALID || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("world-readable key: %v, want EINVALID telling to chmod", err)
		}
	}
}

func TestKeyFilesRejectOtherKeys(t *testing.T) {
	dir := t.TempDir()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(ec)
	pubDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	files := map[string][]byte{
		"ecdsa.key": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		"ecdsa.pub": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}),
		"text":      []byte("not a key"),
	}
	for name, b := range files {
		os.WriteFile(filepath.Join(dir, name), b, 0o600)
	}
	if _, err := audit.LoadPrivateKey(filepath.Join(dir, "ecdsa.key")); bulwark.ErrorCode(err) != bulwark.EINVALID {
		t.Errorf("ecdsa private key: %v", err)
	}
	for _, name := range []string{"ecdsa.pub", "text", "missing"} {
		if _, err := audit.LoadPublicKey(filepath.Join(dir, name)); bulwark.ErrorCode(err) != bulwark.EINVALID {
			t.Errorf("LoadPublicKey(%s) = %v, want EINVALID", name, err)
		}
	}
}

func TestCheckpointSignature(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	c := audit.Checkpoint{Seq: 100, Hash: strings.Repeat("ab", 32), Time: time.Date(2026, 11, 26, 1, 2, 3, 4, time.UTC)}
	if err := c.Sign(priv); err != nil {
		t.Fatal(err)
	}
	if p, _ := c.Payload(); string(p) != `{"hash":"`+c.Hash+`","seq":100,"time":"2026-11-26T01:02:03.000000004Z"}` {
		t.Errorf("payload %s", p)
	}
	if c.KeyID != audit.KeyID(pub) || c.VerifySignature(pub) != nil {
		t.Fatalf("checkpoint does not verify: %+v", c)
	}
	for name, edit := range map[string]func(*audit.Checkpoint){
		"seq":  func(c *audit.Checkpoint) { c.Seq++ },
		"hash": func(c *audit.Checkpoint) { c.Hash = strings.Repeat("cd", 32) },
		"time": func(c *audit.Checkpoint) { c.Time = c.Time.Add(time.Nanosecond) },
		"sig":  func(c *audit.Checkpoint) { c.Signature = "AAAA" + c.Signature[4:] },
	} {
		d := c
		edit(&d)
		if d.VerifySignature(pub) == nil {
			t.Errorf("checkpoint with an edited %s still verifies", name)
		}
	}
}
