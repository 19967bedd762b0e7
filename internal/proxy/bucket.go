package proxy

import (
	"io"
	"time"
)

// bucket is a token bucket capping a direction's bandwidth at rate bytes
// per second, with a burst of 50 ms worth (at least 1 KiB).
type bucket struct {
	rate   int64
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate int64) *bucket {
	burst := max(float64(rate)/20, 1024)
	return &bucket{rate: rate, burst: burst, tokens: burst, last: time.Now()}
}

// take waits until n tokens (n <= burst) are available and spends them.
func (b *bucket) take(c *conn, n int) error {
	now := time.Now()
	b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*float64(b.rate))
	b.last = now
	if short := float64(n) - b.tokens; short > 0 {
		wait := time.Duration(short / float64(b.rate) * float64(time.Second))
		if err := c.sleep(wait); err != nil {
			return err
		}
		b.tokens += wait.Seconds() * float64(b.rate)
		b.last = b.last.Add(wait)
	}
	b.tokens -= float64(n)
	return nil
}

// write sends p to w in bursts the bucket allows.
func (b *bucket) write(c *conn, w io.Writer, p []byte) error {
	for len(p) > 0 {
		n := min(len(p), int(b.burst))
		if err := b.take(c, n); err != nil {
			return err
		}
		if _, err := w.Write(p[:n]); err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}
