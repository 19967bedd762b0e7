package file

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/bulwarkhq/bulwark/internal/fault"
)

// plan is the change file.corrupt makes: for flip and zero, Length bytes
// from Offset; for truncate, Length is the new size.
type plan struct {
	Mode   string `json:"mode"`
	Offset int64  `json:"offset"`
	Length int64  `json:"length"`
	Seed   int64  `json:"seed,omitempty"`
}

// planFor checks the parameters against the file's size and returns the
// change, or a *fault.ParamError.
func planFor(p *CorruptParams, size int64) (plan, error) {
	if size == 0 {
		return plan{}, &fault.ParamError{Param: "path", Message: p.Path + " is empty: there is nothing to corrupt"}
	}
	pl := plan{Mode: p.Mode, Offset: int64(p.Offset), Length: int64(p.Length.Size), Seed: p.Seed}
	if p.Mode == modeTruncate {
		if !p.Length.Given {
			pl.Length = size / 2
		}
		if pl.Length >= size {
			return plan{}, &fault.ParamError{Param: "length", Message: fmt.Sprintf("%d is not shorter than the file (%d bytes): truncate would change nothing", pl.Length, size)}
		}
		return pl, nil
	}
	if !p.Length.Given {
		pl.Length = 1
	}
	switch {
	case pl.Offset >= size:
		return plan{}, &fault.ParamError{Param: "offset", Message: fmt.Sprintf("%d is beyond the end of the file (%d bytes)", pl.Offset, size)}
	case pl.Length > size-pl.Offset:
		return plan{}, &fault.ParamError{Param: "length", Message: fmt.Sprintf("%d bytes from offset %d run past the end of the file (%d bytes)", pl.Length, pl.Offset, size)}
	}
	return pl, nil
}

// span returns the byte range [start, end) of the original file that the
// change touches: the bytes changed, or the tail cut off.
func (pl plan) span(size int64) (start, end int64) {
	if pl.Mode == modeTruncate {
		return pl.Length, size
	}
	return pl.Offset, pl.Offset + pl.Length
}

// faultedSize returns the file's size once the change is made.
func (pl plan) faultedSize(size int64) int64 {
	if pl.Mode == modeTruncate {
		return pl.Length
	}
	return size
}

// transform changes buf, which holds the file's bytes from pos, where they
// overlap the flip or zero range.
func (pl plan) transform(buf []byte, pos int64) {
	if pl.Mode == modeTruncate {
		return
	}
	lo, hi := max(pl.Offset, pos), min(pl.Offset+pl.Length, pos+int64(len(buf)))
	for i := lo; i < hi; i++ {
		b := &buf[i-pos]
		switch {
		case pl.Mode == modeZero:
			*b = 0
		case pl.Seed == 0:
			*b = ^*b
		default:
			*b ^= 1 << bitAt(pl.Seed, i)
		}
	}
}

// bitAt picks the bit flipped at position pos for seed (splitmix64), so the
// choice does not depend on how the file is read in chunks.
func bitAt(seed, pos int64) uint {
	z := uint64(seed) + uint64(pos)*0x9e3779b97f4a7c15
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return uint((z ^ z>>31) & 7)
}

const chunk = 1 << 20

// hashes reads the whole of r (size bytes) once and returns the SHA-256 of
// the bytes as they are and as they will be after pl.
func hashes(r io.Reader, size int64, pl plan) (orig, faulted string, err error) {
	ho, hf := sha256.New(), sha256.New()
	fsize := pl.faultedSize(size)
	buf := make([]byte, chunk)
	var pos int64
	for {
		n, rerr := io.ReadFull(r, buf)
		if n > 0 {
			ho.Write(buf[:n])
			if pos < fsize {
				part := buf[:min(int64(n), fsize-pos)]
				pl.transform(part, pos)
				hf.Write(part)
			}
			pos += int64(n)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return "", "", rerr
		}
	}
	if pos != size {
		return "", "", fmt.Errorf("file changed while it was read: %d bytes, expected %d", pos, size)
	}
	return hex.EncodeToString(ho.Sum(nil)), hex.EncodeToString(hf.Sum(nil)), nil
}

// hashOf returns the SHA-256 of everything r holds.
func hashOf(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.CopyBuffer(h, r, make([]byte, chunk)); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
