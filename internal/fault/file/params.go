package file

import (
	"fmt"

	"github.com/bulwarkhq/bulwark"
	"github.com/bulwarkhq/bulwark/internal/fault"
)

// The modes of file.corrupt.
const (
	modeFlip     = "flip"
	modeZero     = "zero"
	modeTruncate = "truncate"
)

// CorruptParams are the parameters of file.corrupt.
type CorruptParams struct {
	Path    string           `param:"path,required,target" help:"the regular file to corrupt; it must lie inside the file roots (--file-roots, BULWARK_FILE_ROOTS)"`
	Mode    string           `param:"mode" default:"flip" enum:"flip,zero,truncate" help:"flip: invert bits; zero: overwrite with zero bytes; truncate: cut the file short"`
	Offset  bulwark.ByteSize `param:"offset" default:"0" unit:"bytes" help:"where flip or zero starts"`
	Length  ByteSize         `param:"length" unit:"bytes" help:"flip, zero: how many bytes to change (default 1); truncate: the new length of the file (default half of it)"`
	Seed    int64            `param:"seed" help:"flip: 0 inverts every bit of each byte; any other value flips one bit per byte, chosen reproducibly from the seed"`
	MaxSize bulwark.ByteSize `param:"max-size" default:"1GiB" min:"1" unit:"bytes" help:"refuse files larger than this (the original is copied before the change)"`
}

// ByteSize is a bulwark.ByteSize that remembers whether it was given, so that
// an explicit --length 0 (truncate to empty) differs from no --length.
type ByteSize struct {
	Size  bulwark.ByteSize
	Given bool
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *ByteSize) UnmarshalText(b []byte) error {
	if err := s.Size.UnmarshalText(b); err != nil {
		return err
	}
	s.Given = true
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (s ByteSize) MarshalText() ([]byte, error) { return s.Size.MarshalText() }

// Validate checks the parameters that depend on each other; the checks that
// need the file's size are made by Prepare.
func (p *CorruptParams) Validate() error {
	switch {
	case p.Mode == modeTruncate && p.Offset != 0:
		return &fault.ParamError{Param: "offset", Message: "does not go with --mode truncate (--length is the new length)"}
	case p.Mode != modeTruncate && p.Length.Given && p.Length.Size == 0:
		return &fault.ParamError{Param: "length", Message: fmt.Sprintf("must be at least 1 byte with --mode %s", p.Mode)}
	case p.Mode != modeFlip && p.Seed != 0:
		return &fault.ParamError{Param: "seed", Message: "only goes with --mode flip"}
	}
	return nil
}
