package file

// zeroReader reads zero bytes forever.
type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

// repeatReader reads b over and over.
type repeatReader struct {
	b   []byte
	pos int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.b[r.pos]
		r.pos = (r.pos + 1) % len(r.b)
	}
	return len(p), nil
}

// splitmix reads a reproducible pseudo-random stream (splitmix64): the
// same seed gives the same bytes on every platform and Go version.
type splitmix struct {
	state uint64
	buf   [8]byte
	n     int
}

func (s *splitmix) Read(p []byte) (int, error) {
	for i := range p {
		if s.n == 0 {
			s.state += 0x9e3779b97f4a7c15
			z := s.state
			z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
			z = (z ^ z>>27) * 0x94d049bb133111eb
			z ^= z >> 31
			for j := range s.buf {
				s.buf[j] = byte(z >> (8 * j))
			}
			s.n = 8
		}
		p[i] = s.buf[8-s.n]
		s.n--
	}
	return len(p), nil
}
