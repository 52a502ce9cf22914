package main

import "syscall"

// threadCounters returns how many times the calling thread was switched
// out involuntarily (preempted by the kernel for another thread or
// process) and how many minor page faults it took (a page of memory
// touched for the first time since the OS gave it, or took it back): an
// event during which either grows was not timed on the engine's work
// alone.
func threadCounters() (switches, faults int64) {
	const rusageThread = 1 // RUSAGE_THREAD, not in package syscall
	var ru syscall.Rusage
	if syscall.Getrusage(rusageThread, &ru) != nil {
		return -1, -1
	}
	return ru.Nivcsw, ru.Minflt
}
