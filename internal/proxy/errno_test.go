package proxy_test

import "syscall"

func syscallECONNRESET() error { return syscall.ECONNRESET }
