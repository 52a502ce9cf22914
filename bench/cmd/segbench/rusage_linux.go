package main

import "syscall"

// threadSwitches returns how many times the calling thread was switched
// out involuntarily (preempted by the kernel for another thread or
// process): an event during which it grows was not timed alone.
func threadSwitches() int64 {
	const rusageThread = 1 // RUSAGE_THREAD, not in package syscall
	var ru syscall.Rusage
	if syscall.Getrusage(rusageThread, &ru) != nil {
		return -1
	}
	return ru.Nivcsw
}
