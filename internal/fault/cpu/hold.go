package cpu

// holdBurn computes, for --mode hold, how much each core must burn so that
// the mean usage of the cores reaches target (percent), given the usage of
// everything else on each core. It fills the least loaded cores first (water
// filling) and never burns a negative amount or more than a core has left.
func holdBurn(target float64, other []float64) []float64 {
	burn := make([]float64, len(other))
	need := target * float64(len(other))
	for _, o := range other {
		need -= clamp(o, 0, 100)
	}
	if need <= 0 {
		return burn
	}
	// Find the level L at which Σ clamp(L-other, 0, 100-other) = need.
	lo, hi := 0.0, 100.0
	for range 60 {
		mid := (lo + hi) / 2
		if fill(mid, other, nil) < need {
			lo = mid
		} else {
			hi = mid
		}
	}
	fill(hi, other, burn)
	return burn
}

// fill returns how much burning every core up to level adds, and stores the
// per-core amounts in out when it is not nil.
func fill(level float64, other, out []float64) float64 {
	sum := 0.0
	for i, o := range other {
		o = clamp(o, 0, 100)
		b := clamp(level-o, 0, 100-o)
		if out != nil {
			out[i] = b
		}
		sum += b
	}
	return sum
}

func clamp(x, lo, hi float64) float64 { return max(lo, min(hi, x)) }

// mean returns the average of xs, 0 for none.
func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
