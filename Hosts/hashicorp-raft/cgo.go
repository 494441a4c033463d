// cgo bindings to MetaEngineC (Sources/CMetaEngine/include/metaengine.h). The run script sets
// CGO_CFLAGS (the header's directory) and CGO_LDFLAGS (where libMetaEngineC and the Swift runtime are).
package main

/*
#cgo LDFLAGS: -lMetaEngineC
#include <stdlib.h>
#include "metaengine.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// meError is a failure reported by the C library: its ME_E_* code and message.
type meError struct {
	code int
	msg  string
}

func (e *meError) Error() string {
	return fmt.Sprintf("%s: %s", C.GoString(C.me_code_name(C.int(e.code))), e.msg)
}

// check turns a C return code and its me_error into a Go error (nil for ME_OK).
func check(rc C.int, e *C.me_error) error {
	if rc == C.ME_OK {
		return nil
	}
	return &meError{code: int(rc), msg: C.GoString(&e.message[0])}
}

// isCode reports whether err is a library error with the given code.
func isCode(err error, code C.int) bool {
	e, ok := err.(*meError)
	return ok && e.code == int(code)
}

// bytesPtr is the address of b's first byte, or nil for an empty slice.
func bytesPtr(b []byte) unsafe.Pointer {
	if len(b) == 0 {
		return nil
	}
	return unsafe.Pointer(&b[0])
}
