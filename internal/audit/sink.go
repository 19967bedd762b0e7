package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"github.com/bulwarkhq/bulwark"
)

// Sink receives every checkpoint the log writes, so that a copy is kept
// outside the database. Export returns once the checkpoint is durable in the
// sink (as far as the sink can tell).
type Sink interface {
	Export(ctx context.Context, c Checkpoint) error
}

// FileSink appends each checkpoint as one JSON line to a file and fsyncs it.
// Verify reads the file back with ReadCheckpointFile.
type FileSink struct {
	Path string
	mu   sync.Mutex
}

// NewFileSink returns a sink appending to path (created 0600 if missing).
func NewFileSink(path string) *FileSink { return &FileSink{Path: path} }

// Export implements Sink.
func (s *FileSink) Export(_ context.Context, c Checkpoint) error {
	line, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("marshal checkpoint: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := os.OpenFile(s.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open checkpoint file: %w", err)
	}
	_, err = f.Write(append(line, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write checkpoint file %s: %w", s.Path, err)
	}
	return nil
}

// ReadCheckpointFile reads the checkpoints a FileSink wrote. A malformed
// line is an EINVALID error naming the file and line; a missing file is an
// EINVALID error too (the caller asked for it by name).
func ReadCheckpointFile(path string) ([]Checkpoint, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, bulwark.Errorf(bulwark.EINVALID, "checkpoint file: %v", err)
	}
	defer f.Close()
	var cps []Checkpoint
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var c Checkpoint
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return nil, bulwark.Errorf(bulwark.EINVALID, "%s:%d: %v", path, n, err)
		}
		cps = append(cps, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return cps, nil
}
