package datahike

import "sync/atomic"

// guard counts the calls using a C handle so that a close or release waits for them and later calls
// fail instead of touching a freed handle. enter and leave are two atomic operations, no lock.
type guard struct {
	state   atomic.Int64 // calls in flight, plus closedBit once closed
	drained chan struct{}
}

const closedBit = int64(1) << 62

func newGuard() guard { return guard{drained: make(chan struct{})} }

// enter registers a call; false when the handle is closed.
func (g *guard) enter() bool {
	for {
		s := g.state.Load()
		if s&closedBit != 0 {
			return false
		}
		if g.state.CompareAndSwap(s, s+1) {
			return true
		}
	}
}

func (g *guard) leave() {
	if g.state.Add(-1) == closedBit {
		close(g.drained) // the last call of a closed handle
	}
}

// shut marks the handle closed and waits for the calls in flight; false when it was closed already.
func (g *guard) shut() bool {
	for {
		s := g.state.Load()
		if s&closedBit != 0 {
			return false
		}
		if g.state.CompareAndSwap(s, s|closedBit) {
			if s != 0 {
				<-g.drained
			}
			return true
		}
	}
}

func (g *guard) closed() bool { return g.state.Load()&closedBit != 0 }
