package actnet

// #include <actnet.h>
import "C"

import (
	"sync"
	"unsafe"
)

// Pool is a pool of byte buffers, shareable between servers, clients and goroutines. Given
// to a server or client as ConnOptions.ReadBufferPool, it turns on the zero-copy read path:
// each Data holds a pool buffer (Data.TakeBuffer). Idle connections hold no buffer.
type Pool struct {
	mu  sync.RWMutex
	ptr *C.actnet_pool
}

// NewPool makes a pool of buffers of bufferSize bytes (> 0), keeping at most maxIdle idle.
func NewPool(bufferSize, maxIdle int) (*Pool, error) {
	if bufferSize <= 0 || maxIdle < 0 {
		return nil, ErrInvalidArgument
	}
	var ptr *C.actnet_pool
	if err := check(C.actnet_pool_new(C.size_t(bufferSize), C.size_t(maxIdle), &ptr)); err != nil {
		return nil, err
	}
	return &Pool{ptr: ptr}, nil
}

// Close releases the caller's reference: servers, connections and buffers that use the pool
// keep it alive until they are done. Later calls return ErrClosed.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ptr == nil {
		return ErrClosed
	}
	err := check(C.actnet_pool_free(p.ptr))
	p.ptr = nil
	return err
}

// Get takes an empty buffer (Len 0, Cap at least the pool's buffer size) to fill (Memory,
// SetLen) and write with Node.WriteBuffer, or Release.
func (p *Pool) Get() (*Buffer, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.ptr == nil {
		return nil, ErrClosed
	}
	var b *C.actnet_buf
	if err := check(C.actnet_pool_get(p.ptr, &b)); err != nil {
		return nil, err
	}
	return &Buffer{ptr: b}, nil
}

// PoolStats are a pool's counters.
type PoolStats struct {
	BufferSize  uint64
	Allocated   uint64 // buffers holding memory now: Idle + Outstanding
	Idle        uint64 // buffers waiting in the pool
	Outstanding uint64 // buffers handed out and not returned yet (a leak shows here)
	Allocations uint64 // buffer memory allocations since the pool was made
}

// Stats reads the pool's counters.
func (p *Pool) Stats() (PoolStats, error) {
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.ptr == nil {
		return PoolStats{}, ErrClosed
	}
	var s C.actnet_pool_stats
	if err := check(C.actnet_pool_stats_init(&s)); err != nil {
		return PoolStats{}, err
	}
	if err := check(C.actnet_pool_stats_get(p.ptr, &s)); err != nil {
		return PoolStats{}, err
	}
	return PoolStats{BufferSize: uint64(s.buffer_size), Allocated: uint64(s.allocated), Idle: uint64(s.idle),
		Outstanding: uint64(s.outstanding), Allocations: uint64(s.allocations)}, nil
}

// Buffer is a pool buffer held by Go: from Data.TakeBuffer or Pool.Get. Its memory is C
// memory owned by the pool: the slices Bytes and Memory return are views of it, valid
// until the buffer is released or written (Node.WriteBuffer), after which every method
// fails with ErrDoubleFree (or returns nil). Release it exactly once, or write it: a
// buffer dropped without either is a leak (PoolStats.Outstanding). Safe for concurrent use.
type Buffer struct {
	mu  sync.Mutex
	ptr *C.actnet_buf // nil once released or handed to the runtime
}

// Bytes is a view of the content (Len bytes), or nil once released.
func (b *Buffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ptr == nil {
		return nil
	}
	n := C.actnet_buf_len(b.ptr)
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(C.actnet_buf_data(b.ptr))), int(n))
}

// Memory is a view of the whole buffer (Cap bytes), to fill before SetLen; nil once
// released.
func (b *Buffer) Memory() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ptr == nil {
		return nil
	}
	n := C.actnet_buf_capacity(b.ptr)
	return unsafe.Slice((*byte)(unsafe.Pointer(C.actnet_buf_data(b.ptr))), int(n))
}

// Len is the content length (0 once released).
func (b *Buffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ptr == nil {
		return 0
	}
	return int(C.actnet_buf_len(b.ptr))
}

// Cap is the memory size (0 once released).
func (b *Buffer) Cap() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ptr == nil {
		return 0
	}
	return int(C.actnet_buf_capacity(b.ptr))
}

// SetLen sets the content length after writing into Memory (ErrInvalidArgument past Cap).
func (b *Buffer) SetLen(n int) error {
	if n < 0 {
		return ErrInvalidArgument
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ptr == nil {
		return ErrDoubleFree
	}
	return check(C.actnet_buf_set_len(b.ptr, C.size_t(n)))
}

// Release returns the buffer to its pool. A second Release, or one after a successful
// Node.WriteBuffer, returns ErrDoubleFree.
func (b *Buffer) Release() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ptr == nil {
		return ErrDoubleFree
	}
	err := check(C.actnet_buf_free(b.ptr))
	b.ptr = nil
	return err
}

// take hands the C buffer to f (a write); on success the Go side no longer holds it.
func (b *Buffer) take(f func(*C.actnet_buf) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ptr == nil {
		return ErrDoubleFree
	}
	if err := f(b.ptr); err != nil {
		return err
	}
	b.ptr = nil
	return nil
}
